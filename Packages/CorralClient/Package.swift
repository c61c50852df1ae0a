// swift-tools-version:6.2
// CorralClient: the typed client of Corral's API (submit, list, watch, cancel, stream logs) that the `corral`
// CLI is built on, for Swift tools that drive the cluster without shelling out. The root package vends it.
import PackageDescription

let package = Package(
    name: "CorralClient",
    products: [.library(name: "CorralClient", targets: ["CorralClient"])],
    dependencies: [
        .package(path: "../ClusterCore"),
        .package(path: "../ClusterWire"),
        .package(path: "../HTTPKit"),
    ],
    targets: [
        .target(
            name: "CorralClient",
            dependencies: [
                .product(name: "ClusterCore", package: "ClusterCore"),
                .product(name: "ClusterWire", package: "ClusterWire"),
                .product(name: "HTTPKit", package: "HTTPKit"),
            ]
        )
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
