// swift-tools-version:6.2
// NodeProbe: what a node has (GPUs through nvidia-smi or NVML, CPUs and memory through cgroups and /proc,
// hostname, boot id). It depends only on LinuxSystem, which runs nvidia-smi under a hard timeout.
import PackageDescription

let package = Package(
    name: "NodeProbe",
    products: [.library(name: "NodeProbe", targets: ["NodeProbe"])],
    dependencies: [.package(path: "../LinuxSystem")],
    targets: [
        .target(name: "NodeProbe", dependencies: [.product(name: "LinuxSystem", package: "LinuxSystem")])
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
