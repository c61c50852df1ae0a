// swift-tools-version:6.2
// HTTPKit: an HTTP/1.1 server on an epoll reactor, a plain HTTP/1.1 client and one over libcurl for https, with
// OpenSSL for TLS (libcurl and OpenSSL are loaded on first use). It knows nothing of clusters. The Linux system
// layer under it (epoll, eventfd, accept4, threads, the syscall helper) comes from LinuxSystem.
import PackageDescription

let package = Package(
    name: "HTTPKit",
    products: [.library(name: "HTTPKit", targets: ["HTTPKit"])],
    dependencies: [.package(path: "../LinuxSystem")],
    targets: [
        // libcurl's headers at build time (libcurl4-openssl-dev); the library itself is loaded on first use.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        // OpenSSL's headers at build time (libssl-dev); libssl.so.3 itself is loaded on first use (copenssl.c).
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "HTTPKit",
            dependencies: [
                "CCurl", "COpenSSL",
                .product(name: "LinuxSystem", package: "LinuxSystem"),
                .product(name: "CLinuxShims", package: "LinuxSystem"),
            ]
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
