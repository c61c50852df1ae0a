// swift-tools-version:6.2
// ClusterWire: the JSON protocol between agents, users and the controller. (The TOML files users write are
// read by CorralSupport's TOML, in the apps: the wire types know only JSON.)
import PackageDescription

let package = Package(
    name: "ClusterWire",
    products: [.library(name: "ClusterWire", targets: ["ClusterWire"])],
    dependencies: [.package(path: "../ClusterCore")],
    targets: [
        .target(name: "ClusterWire", dependencies: [.product(name: "ClusterCore", package: "ClusterCore")])
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
