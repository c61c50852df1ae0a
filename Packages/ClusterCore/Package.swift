// swift-tools-version:6.2
// ClusterCore: the domain (ids, resources, jobs, the job state machine, nodes, the scheduler, time).
// It imports only the Swift standard library: no I/O, no Foundation, no JSON, no SQL.
// ClusterCoreTesting: fixtures for tests and benchmarks (a seeded generator, a large repeatable cluster), kept
// out of ClusterCore's public API.
import PackageDescription

let package = Package(
    name: "ClusterCore",
    products: [
        .library(name: "ClusterCore", targets: ["ClusterCore"]),
        .library(name: "ClusterCoreTesting", targets: ["ClusterCoreTesting"]),
    ],
    targets: [
        .target(name: "ClusterCore"),
        .target(name: "ClusterCoreTesting", dependencies: ["ClusterCore"]),
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
