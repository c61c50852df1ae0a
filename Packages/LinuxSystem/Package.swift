// swift-tools-version:6.2
// LinuxSystem: the Linux system layer the other packages and the apps share, so that none of them needs
// another's unrelated code to reach it: CLinuxShims (the C that Glibc does not expose to Swift: epoll,
// eventfd, accept4, pipe2, pidfd_open, prctl, posix_spawn's GNU extensions), the syscall helper, the one
// posix_spawn wrapper, process helpers, threads off the cooperative pool, and short commands with a hard
// timeout. It knows nothing of clusters or of HTTP.
import PackageDescription

let package = Package(
    name: "LinuxSystem",
    products: [
        .library(name: "LinuxSystem", targets: ["LinuxSystem"]),
        .library(name: "CLinuxShims", targets: ["CLinuxShims"]),
    ],
    targets: [
        .target(name: "CLinuxShims", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "LinuxSystem", dependencies: ["CLinuxShims"]),
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
