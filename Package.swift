// swift-tools-version:6.2
// Corral: a GPU cluster job scheduler. The root package composes the local packages under Packages/,
// the three apps under Apps/ and the tests under Tests/. See docs/architecture.md.
import PackageDescription

let core = Target.Dependency.product(name: "ClusterCore", package: "ClusterCore")
let fixtures = Target.Dependency.product(name: "ClusterCoreTesting", package: "ClusterCore")
let wire = Target.Dependency.product(name: "ClusterWire", package: "ClusterWire")
let store = Target.Dependency.product(name: "ClusterStore", package: "ClusterStore")
let probe = Target.Dependency.product(name: "NodeProbe", package: "NodeProbe")
let http = Target.Dependency.product(name: "HTTPKit", package: "HTTPKit")
let linux = Target.Dependency.product(name: "LinuxSystem", package: "LinuxSystem")
let shims = Target.Dependency.product(name: "CLinuxShims", package: "LinuxSystem")
let client = Target.Dependency.product(name: "CorralClient", package: "CorralClient")

/// How the installed binaries are linked (`scripts/build-installed.sh` sets these; docs/PERFORMANCE.md):
/// - with libstdc++ (the Swift runtime's C++ library) and libgcc's unwinder linked in, from the folder the script
///   names, which holds only the archive: loading and binding the shared libstdc++ was about 0.5 ms of every
///   command, and loading `libgcc_s.so.1` ran its constructor, whose `cpuid` instructions each leave a virtual
///   machine; an idle agent holds 1 MiB less so;
/// - with no dynamic symbol table of our own (`--no-export-dynamic`): the Swift runtime's start calls `dladdr` on
///   itself, which walked the ~6,700 symbols the toolchain's `-export-dynamic` exported, and an idle agent kept
///   those pages; nothing looks them up (libcurl, OpenSSL and NVML are opened `RTLD_LOCAL`);
/// - `corral` also not position-independent, as a PIE binary has its ~41,000 pointers relocated by the loader at
///   every start, which writes (and so copies) about 110 pages.
/// Only there: linked to the toolchain's shared Swift libraries (the debug build), a fixed-address binary takes its
/// functions' addresses from its own PLT, which the loader warns on every start may break pointer equality.
let installedBuild = Context.environment["CORRAL_INSTALLED_BUILD"] != nil
let installedLinkerFlags: [String] =
    (installedBuild ? ["-Xlinker", "--no-export-dynamic"] : [])
    + (Context.environment["CORRAL_STATIC_LIBSTDCXX"].map { ["-L", $0, "-Xclang-linker", "-static-libgcc"] } ?? [])
let cliLinkerSettings: [LinkerSetting] = [
    .unsafeFlags((installedBuild ? ["-Xclang-linker", "-no-pie"] : []) + installedLinkerFlags)
]

/// How the daemons are linked: every symbol bound at start (`-z now`, which also makes the whole GOT read-only). The
/// agent's supervisors are forks of one zygote; bound lazily, each of them looked up the same symbols again and
/// copied the GOT pages it wrote (3 % of a supervisor's CPU in `perf`, docs/PERFORMANCE.md).
let daemonLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"] + installedLinkerFlags)
]

let package = Package(
    name: "Corral",
    products: [
        .executable(name: "corral-controller", targets: ["ControllerMain"]),
        .executable(name: "corral-agent", targets: ["AgentMain"]),
        .executable(name: "corral", targets: ["CLIMain"]),
        .executable(name: "corral-bench", targets: ["BenchMain"]),
        .library(name: "CorralClient", targets: ["CorralClientProduct"]),
        .library(name: "ControllerKit", targets: ["ControllerKit"]),
        .library(name: "AgentKit", targets: ["AgentKit"]),
    ],
    dependencies: [
        .package(path: "Packages/ClusterCore"),
        .package(path: "Packages/ClusterWire"),
        .package(path: "Packages/ClusterStore"),
        .package(path: "Packages/NodeProbe"),
        .package(path: "Packages/HTTPKit"),
        .package(path: "Packages/LinuxSystem"),
        .package(path: "Packages/CorralClient"),
    ],
    targets: [
        // Shared by the apps: logging sink, wall clock, config files (TOML), file permissions, signals.
        .target(name: "CorralSupport", dependencies: [core], path: "Apps/common/CorralSupport"),

        .target(
            name: "ControllerKit",
            dependencies: [core, wire, store, http, "CorralSupport"],
            path: "Apps/controller/ControllerKit"
        ),
        .executableTarget(
            name: "ControllerMain",
            dependencies: ["ControllerKit", "CorralSupport", http],
            path: "Apps/controller/main",
            linkerSettings: daemonLinkerSettings
        ),

        .target(
            name: "AgentKit",
            dependencies: [core, wire, probe, http, linux, shims, "CorralSupport"],
            path: "Apps/agent/AgentKit"
        ),
        .executableTarget(
            name: "AgentMain",
            dependencies: ["AgentKit", "CorralSupport", http],
            path: "Apps/agent/main",
            linkerSettings: daemonLinkerSettings
        ),

        // The `CorralClient` product: Packages/CorralClient, re-exported (see the file for why).
        .target(name: "CorralClientProduct", dependencies: [client], path: "Apps/cli/CorralClientProduct"),
        .target(name: "CLIKit", dependencies: [core, wire, client, "CorralSupport"], path: "Apps/cli/CLIKit"),
        .executableTarget(
            name: "CLIMain",
            dependencies: ["CLIKit", "CorralSupport"],
            path: "Apps/cli/main",
            linkerSettings: cliLinkerSettings
        ),

        // `just bench`: the figures of docs/PERFORMANCE.md (scheduler, HTTP, fleet simulator, end to end).
        .target(
            name: "BenchKit",
            dependencies: [core, fixtures, wire, http, store, "CorralSupport", linux, shims],
            path: "Apps/bench/BenchKit"
        ),
        .executableTarget(name: "BenchMain", dependencies: ["BenchKit", http], path: "Apps/bench/main"),

        .testTarget(name: "ClusterCoreTests", dependencies: [core, fixtures]),
        .testTarget(name: "ClusterWireTests", dependencies: [core, fixtures, wire]),
        .testTarget(name: "ClusterStoreTests", dependencies: [core, store, "TestSupport"]),
        // Helpers of the process-level tests (scripts, temporary directories, waiting for processes, a small tmpfs).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "NodeProbeTests",
            dependencies: [probe, linux, "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "HTTPKitTests", dependencies: [http]),
        .testTarget(name: "LinuxSystemTests", dependencies: [linux, shims, "TestSupport"]),
        .testTarget(name: "CorralSupportTests", dependencies: ["CorralSupport"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["CLIKit", "CorralSupport", client, fixtures, http, wire],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "AgentTests", dependencies: ["AgentKit", "CorralSupport", core, wire, linux, http]),
        .testTarget(
            name: "ControllerTests",
            dependencies: ["ControllerKit", "CorralSupport", core, wire, store, http, "TestSupport"]
        ),
        .testTarget(name: "BenchTests", dependencies: ["BenchKit", "ControllerMain", "AgentMain", "CLIMain"]),
        // Starts the real binaries (built first: these dependencies make `swift test` build them).
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ControllerMain", "AgentMain", "CLIMain", core, wire, http, linux, "TestSupport"],
            // Files the tests hand to outside tools (promtool), read by path.
            exclude: ["Fixtures"]
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
