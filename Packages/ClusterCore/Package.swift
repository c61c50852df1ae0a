// swift-tools-version:6.2
// ClusterCore: the domain (ids, resources, jobs, the job state machine, nodes, the scheduler, time).
// It imports only the Swift standard library: no I/O, no Foundation, no JSON, no SQL.
import PackageDescription

let package = Package(
    name: "ClusterCore",
    products: [.library(name: "ClusterCore", targets: ["ClusterCore"])],
    targets: [.target(name: "ClusterCore")]
)

// MARK: - Standard settings: keep this block identical in every Package.swift of the repo.
for target in package.targets where target.type != .system && !["CLinuxShims"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .unsafeFlags(["-require-explicit-sendable"]),
    ])
    target.swiftSettings = settings
}
