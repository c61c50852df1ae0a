import ClusterCore
import ClusterWire
import Foundation
import Glibc
import HTTPKit
import LinuxSystem
import Testing

/// A real local cluster for end-to-end tests: the real `corral-controller`, `corral-agent` and `corral`
/// binaries, started as processes on loopback, each cluster with its own temporary directory and HOME.
final class TestCluster: @unchecked Sendable {
    /// Extra environment for the daemons started from now on (a fault hook such as CORRAL_TEST_EXIT_AFTER_COMMIT).
    var daemonEnvironment: [String: String] = [:]
    // @unchecked Sendable: a test owns its cluster and uses it from one task at a time.
    let root: String
    let home: String
    var controller: Process?
    var agents: [String: Process] = [:]
    var port: Int = 0
    var scheme = "http"
    /// The address the controller listens on and everything else reaches it at (loopback unless a test puts
    /// it on an address of its own, such as one end of a veth pair).
    var host = "127.0.0.1"
    /// The agent binary an agent runs where it is not the built one (by agent name): a copy an update replaces.
    var agentExecutables: [String: String] = [:]
    /// The network namespace each agent started in one runs in (by agent name).
    private(set) var namespaces: [String: String] = [:]
    /// Every command line this cluster started (daemons and CLI runs), for the secrets-hygiene test.
    private(set) var commandLines: [[String]] = []

    func recordCommandLine(_ line: [String]) { commandLines.append(line) }

    static var binaries: String {
        if let dir = ProcessInfo.processInfo.environment["CORRAL_BIN_DIR"] { return dir }
        // The test bundle lives next to the built products (.build/<triple>/debug/CorralPackageTests.xctest).
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    /// This cluster's agents put their jobs' cgroups below this one (below the test's own cgroup in each
    /// hierarchy), which the cluster removes when it goes.
    let cgroupRoot: String

    init() throws {
        let id = UUID().uuidString.prefix(8).lowercased()
        cgroupRoot = "corral-e2e-\(id)"
        root =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("corral-e2e-\(id)").path
        home = root + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    deinit {
        for agent in agents.values where agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
        if let controller, controller.isRunning { kill(controller.processIdentifier, SIGKILL) }
        killSupervisors()
        removeCgroups(named: cgroupRoot)
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Job supervisors outlive their agents by design; a test's jobs and supervisors end with its cluster.
    func killSupervisors() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasSuffix("-state") {
            for record in jobRecords(agentState: root + "/" + name) {
                // Only a supervisor that still runs (its start time as recorded) and its job's group: a pid from a
                // file may have gone to another process since (pids wrap at 32,768 here, and the suite wraps them),
                // and kill(-0) or kill(-1) would reach the test run itself, or every process. What is left of a job
                // is in the test's cgroups, which `removeCgroups` kills.
                guard let supervisor = liveSupervisorPID(record) else { continue }
                // The job's group only while its leader runs as job.start says (a job without cgroups: a test run
                // without root, or a container job); a contained job's processes go with its cgroup.
                if let pid = Int32(read(record + "/job.pid")), pid > 1,
                    ProcessStat.startTicks(of: pid).map({ String($0) }) == read(record + "/job.start")
                {
                    kill(-pid, SIGKILL)
                }
                kill(supervisor, SIGKILL)
            }
        }
    }

    /// The directories of an agent's state dir that describe its jobs (one per allocation).
    func jobRecords(agentState: String) -> [String] {
        let jobs = agentState + "/jobs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: jobs)) ?? []).sorted().map { jobs + "/" + $0 }
    }

    /// From a job record's supervisor.pid ("pid starttime").
    func supervisorPID(_ record: String) -> Int32? {
        read(record + "/supervisor.pid").split(separator: " ").first.flatMap { Int32($0) }
    }

    /// The record's supervisor while it runs: its pid, if the process with that pid started when the record says.
    func liveSupervisorPID(_ record: String) -> Int32? {
        let fields = read(record + "/supervisor.pid").split(separator: " ")
        guard fields.count == 2, let pid = Int32(fields[0]), pid > 1,
            ProcessStat.startTicks(of: pid).map({ String($0) }) == String(fields[1])
        else { return nil }
        return pid
    }

    func stateDir(agent name: String) -> String { root + "/\(name)-state" }

    var dataDir: String { root + "/controller" }
    var endpoint: String { "\(scheme)://\(host):\(port)" }
    var adminToken: String { read(dataDir + "/admin.token") }
    var clusterToken: String { read(dataDir + "/cluster.token") }

    func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmed
    }

    /// The controller settings of the tests written before jobs ran as their users' accounts: every user's
    /// jobs run as root, as they did then (a single trusted team's setting, named as such in controller.toml).
    static let trustedTeam = ["--default-unix-user", "root", "--root-users", "*"]

    /// Starts the controller (port 0 the first time, so the kernel picks one; the same port on restarts).
    /// `accounts` are its account-mapping flags (by default `trustedTeam`).
    func startController(extra: [String] = [], accounts: [String] = TestCluster.trustedTeam) async throws {
        let endpointFile = dataDir + "/endpoint"
        try? FileManager.default.removeItem(atPath: endpointFile)
        controller = try launch(
            "corral-controller",
            ["--data-dir", dataDir, "--listen", "\(host):\(port)", "--heartbeat-interval", "0.5"] + accounts + extra,
            log: root + "/controller.log"
        )
        try await waitUntil("the controller writes its endpoint", timeout: 20) {
            FileManager.default.fileExists(atPath: endpointFile)
        }
        let written = read(endpointFile)
        scheme = written.hasPrefix("https://") ? "https" : "http"
        port = Int(written.split(separator: ":").last ?? "") ?? 0
        #expect(port > 0)
    }

    /// Whether the controller this cluster started still runs.
    var controllerRuns: Bool { controller?.isRunning ?? false }

    /// kill -9: no chance to flush anything.
    func killController() {
        guard let controller else { return }
        kill(controller.processIdentifier, SIGKILL)
        controller.waitUntilExit()
        self.controller = nil
    }

    /// Configures (through `corral-agent configure`) and starts an agent that declares `gpus` GPUs.
    /// With `nvidiaSMI`, the agent detects its GPUs by running that program instead of declaring `gpus`.
    /// With `namespace`, the agent runs in that named network namespace (`ip netns add`), as do its restarts.
    func startAgent(
        _ name: String,
        gpus: Int,
        cpus: Int = 8,
        extra: [String] = [],
        nvidiaSMI: String? = nil,
        namespace: String? = nil,
        tables: String? = nil,
        settings: String? = nil
    ) async throws {
        let config = root + "/\(name).toml"
        let declare = nvidiaSMI == nil ? ["--declare-gpus", "\(gpus)"] : []
        let configure = try await run(
            "corral-agent",
            [
                "configure", "--config", config, "--endpoint", endpoint, "--cluster-token-file",
                dataDir + "/cluster.token",
                "--node-id", name, "--cpus", "\(cpus)", "--memory", "16G", "--state-dir", stateDir(agent: name),
                "--cgroup-parent", "\(cgroupRoot)/\(name)",
            ] + declare + (getuid() == 0 ? [] : ["--allow-uncontained"]) + extra
        )
        #expect(configure.status == 0, "\(configure.stderr)")
        if let nvidiaSMI {
            // NVML off: on a machine with a real driver the stand-in must still be the one asked.
            let settings = "nvidia_smi = \"\(nvidiaSMI)\"\nnvml = \"off\"\n" + read(config) + "\n"
            try settings.write(toFile: config, atomically: true, encoding: .utf8)
            chmod(config, 0o600)
        }
        if let settings {
            // Top-level settings go before every table.
            try (settings + "\n" + read(config) + "\n").write(toFile: config, atomically: true, encoding: .utf8)
            chmod(config, 0o600)
        }
        if let tables {
            // TOML tables (such as [stage]) go after everything the configure command wrote.
            try (read(config) + "\n" + tables + "\n").write(toFile: config, atomically: true, encoding: .utf8)
            chmod(config, 0o600)
        }
        namespaces[name] = namespace
        agents[name] = try launch(
            agentExecutables[name] ?? "corral-agent",
            ["start", "--config", config],
            log: root + "/\(name).log",
            namespace: namespace
        )
    }

    /// kill -9 an agent and start it again with the same configuration and state directory.
    func restartAgent(_ name: String) async throws {
        if let agent = agents[name] {
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        agents[name] = try launch(
            agentExecutables[name] ?? "corral-agent",
            ["start", "--config", root + "/\(name).toml"],
            log: root + "/\(name).log",
            namespace: namespaces[name]
        )
    }

    /// Points the CLI (this cluster's HOME) at the controller with the admin token, given on stdin so it
    /// never shows in ps (as the README tells users to do).
    func configureCLI(extra: [String] = []) async throws {
        let result = try await corral(
            ["configure", "--endpoint", endpoint, "--token", "-"] + extra,
            input: adminToken + "\n"
        )
        #expect(result.status == 0, "\(result.stderr)")
    }

    // MARK: Processes

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = home
        for key in ["CORRAL_ENDPOINT", "CORRAL_TOKEN", "CORRAL_CA_FILE", "CORRAL_CLUSTER_TOKEN", "CORRAL_NODE_ID"] {
            env[key] = nil
        }
        return env.merging(extra) { $1 }
    }

    /// Starts a daemon, its output in `log` (emptied first). With `namespace`, in that named network namespace:
    /// through `nsenter --net`, which joins the network namespace alone (`ip netns exec` would also mount a
    /// sysfs of its own, hiding the cgroup hierarchies the agent contains its jobs in) and then runs the binary
    /// itself, so the process is the daemon's.
    func launch(_ binary: String, _ arguments: [String], log: String, namespace: String? = nil) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let path = binary.hasPrefix("/") ? binary : Self.binaries + "/" + binary
        var executable = URL(fileURLWithPath: path)
        var commandArguments = arguments
        if let namespace {
            let file = ["/run/netns/", "/var/run/netns/"].map { $0 + namespace }
                .first { FileManager.default.fileExists(atPath: $0) }
            guard let file else { throw TestFailure("no network namespace named \(namespace)") }
            executable = URL(fileURLWithPath: "/usr/bin/nsenter")
            commandArguments = ["--net=\(file)", "--", path] + arguments
        }
        commandLines.append([binary] + arguments)
        // A binary the test has just copied (an agent that updates itself) may still be open for writing in a
        // child that another test forked meanwhile, until that child execs: exec then fails with ETXTBSY ("Text
        // file busy") for a few milliseconds. The kernel's rule, not the code under test: try again.
        var attempt = 0
        while true {
            attempt += 1
            let process = Process()
            process.executableURL = executable
            process.arguments = commandArguments
            process.environment = environment(daemonEnvironment)
            process.standardOutput = handle
            process.standardError = handle
            do {
                try process.run()
                return process
            } catch let error as NSError where attempt < 50 && Self.isTextFileBusy(error) {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    static func isTextFileBusy(_ error: NSError) -> Bool {
        let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError
        return [error, underlying].contains { $0?.domain == NSPOSIXErrorDomain && $0?.code == Int(ETXTBSY) }
    }

    /// Runs a binary to completion on a thread of its own: blocking waits never hold the test runner's
    /// cooperative threads (two on this machine), which in-process servers of other suites need.
    /// `input`, when given, is the command's standard input (then closed); otherwise it reads /dev/null.
    func run(
        _ binary: String,
        _ arguments: [String],
        env: [String: String] = [:],
        input: String? = nil
    ) async throws -> Result {
        let path = binary.hasPrefix("/") ? binary : Self.binaries + "/" + binary
        let environment = environment(env)
        commandLines.append([binary] + arguments)
        return try await offPool { try Self.runBlocking(path, arguments, environment, input: input) }
    }

    static func runBlocking(
        _ path: String,
        _ arguments: [String],
        _ environment: [String: String],
        input: String? = nil,
        directory: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Drain stderr on another thread so a chatty command cannot fill one pipe while we read the other.
        let errorData = LockedData()
        let reader = Thread { errorData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = errorData.wait()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    func corral(_ arguments: [String], env: [String: String] = [:], input: String? = nil) async throws -> Result {
        try await run("corral", arguments, env: env, input: input)
    }

    /// `corral submit OPTIONS -- COMMAND`, returning the job id, which submit prints alone on stdout.
    func submit(_ options: [String], _ command: [String]) async throws -> String {
        let result = try await corral(["submit"] + options + ["--"] + command)
        #expect(result.status == 0, "submit failed: \(result.stderr)")
        let id = result.stdout.trimmed
        #expect(!id.isEmpty && !id.contains("\n"), "submit printed '\(result.stdout)'")
        return id
    }

    func job(_ id: String) async throws -> JobView {
        let result = try await corral(["show", id, "--json"])
        guard result.status == 0 else { throw TestFailure("corral show \(id) failed: \(result.stderr)") }
        return try JSONDecoder.wire.decode(JobView.self, from: Data(result.stdout.utf8))
    }

    func jobs() async throws -> [JobView] {
        let result = try await corral(["ls", "--all", "--json"])
        guard result.status == 0 else { throw TestFailure("corral ls failed: \(result.stderr)") }
        return try JSONDecoder.wire.decode([JobView].self, from: Data(result.stdout.utf8))
    }

    /// The job's event log, oldest first (through the API with the admin token).
    func events(_ id: String) async throws -> [EventView] {
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: endpoint, bearerToken: adminToken))
        let response = try await client.execute(.get, "/v1/jobs/\(id)/events")
        return try JSONDecoder.wire.decode(EventListResponse.self, from: Data(response.body)).events
    }

    /// The wall clock, as the controller reads it (same machine).
    func now() -> Timestamp { Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// Waits for the job to reach one of `states` (in attempt `attempt` or a later one, when given).
    func waitForState(
        _ id: String,
        _ states: Set<String>,
        timeout: Double = 30,
        attempt: Int = 0
    ) async throws -> JobView {
        var last: JobView?
        do {
            try await waitUntil("job \(id) reaches \(states.sorted())", timeout: timeout) {
                last = try? await job(id)
                return last.map { states.contains($0.state) && $0.attempt >= attempt } ?? false
            }
        } catch {
            throw TestFailure("\(error); last state \(last?.state ?? "?")\n\(logs())")
        }
        return last!
    }

    func logs() -> String {
        var text = ""
        for name in ["controller"] + agents.keys.sorted() {
            text += "--- \(name)\n" + read(root + "/\(name).log") + "\n"
        }
        return text
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes an executable script through an O_CLOEXEC descriptor, then renames it into place: a descriptor open
/// for writing that leaked into a process another test spawns meanwhile (Foundation's writes do not set
/// O_CLOEXEC) would make running the script fail with ETXTBSY for as long as that process lives.
func writeExecutable(_ path: String, _ text: String) throws {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw TestFailure("cannot write \(temporary)") }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count, rename(temporary, path) == 0 else { throw TestFailure("cannot write \(path)") }
}

/// Whether the process is alive and not a zombie.
func processRuns(_ pid: Int32) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 1024)
    return ProcessStat.read("/proc/\(pid)/stat", buffer: &buffer).map { $0.state != "Z" } ?? false
}

/// Whether a process of the group is alive (zombies, dead and waiting to be reaped, do not count).
func processGroupRuns(_ group: Int32) -> Bool { Processes.groupRuns(group) }

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
func waitUntil(_ what: String, timeout: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(timeout)s waiting until \(what)")
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

extension JSONDecoder {
    static var wire: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// Runs blocking work on a new thread and resumes the caller when it is done.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A value handed from one thread to another, with a wait.
final class LockedData: @unchecked Sendable {
    // @unchecked Sendable: guarded by the condition lock.
    private let condition = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}

/// Kills what is left in the cgroup trees named `name` below this process's own cgroups, and removes them.
func removeCgroups(named name: String) {
    let layout = CgroupLayout.detect()
    var tops: [String] = []
    if let unified = layout.unified { tops.append(unified + (layout.own[""] == "/" ? "" : layout.own[""] ?? "")) }
    for (controller, mount) in layout.v1 {
        let own = layout.own[controller] ?? "/"
        tops.append(mount + (own == "/" ? "" : own))
    }
    for top in Set(tops) { removeCgroupTree(top + "/" + name) }
}

private func removeCgroupTree(_ path: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
    for child in names where isDirectory(path + "/" + child) { removeCgroupTree(path + "/" + child) }
    for _ in 0..<50 {
        if (try? FileText.write("1", to: path + "/cgroup.kill")) == nil {
            for line in (FileText.read(path + "/cgroup.procs") ?? "").split(separator: "\n") {
                if let pid = Int32(line), pid > 1 { kill(pid, SIGKILL) }
            }
        }
        if rmdir(path) == 0 || errno == ENOENT { return }
        usleep(20_000)
    }
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
