// swift-tools-version:6.2
// ClusterStore: a small safe wrapper over libsqlite3 and the cluster's tables.
import PackageDescription

let package = Package(
    name: "ClusterStore",
    products: [.library(name: "ClusterStore", targets: ["ClusterStore"])],
    dependencies: [.package(path: "../ClusterCore")],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "ClusterStore",
            dependencies: ["CSQLite", .product(name: "ClusterCore", package: "ClusterCore")]
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
