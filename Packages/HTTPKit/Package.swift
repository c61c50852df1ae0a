// swift-tools-version:6.2
// HTTPKit: an HTTP/1.1 server on an epoll reactor and a client over libcurl. It knows nothing of clusters.
// CLinuxShims holds the Linux-only C that Glibc does not expose to Swift (epoll, eventfd, accept4, pipe2,
// posix_spawn's GNU extensions); the agent uses it too, for spawning jobs.
import PackageDescription

let package = Package(
    name: "HTTPKit",
    products: [
        .library(name: "HTTPKit", targets: ["HTTPKit"]),
        .library(name: "CLinuxShims", targets: ["CLinuxShims"]),
    ],
    targets: [
        .target(name: "CLinuxShims", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "HTTPKit", dependencies: ["CLinuxShims", "CCurl", "COpenSSL"]),
    ]
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
