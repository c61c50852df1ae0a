// swift-tools-version:6.2
// ClusterStore: small safe wrappers over libsqlite3 and libpq, and the cluster's tables on either.
import PackageDescription

let package = Package(
    name: "ClusterStore",
    products: [.library(name: "ClusterStore", targets: ["ClusterStore"])],
    dependencies: [.package(path: "../ClusterCore")],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "ClusterStore",
            dependencies: ["CSQLite", "CPostgres", .product(name: "ClusterCore", package: "ClusterCore")]
        ),
    ]
)

// MARK: - Standard settings: keep this block identical in every Package.swift of the repo.
for target in package.targets
where target.type != .system && !["CLinuxShims", "CCurl", "COpenSSL"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .unsafeFlags(["-require-explicit-sendable"]),
    ])
    target.swiftSettings = settings
}
