import ClusterCore
import ClusterWire
import CorralSupport
import FoundationEssentials
import Glibc
import LinuxSystem

/// Why the supervisor stopped a job (none when the job ended by itself).
enum StopReason: String, Codable, Hashable, Sendable {
    /// `preempt`: a cancel that sends the job's checkpoint signal first and waits its lead before SIGTERM.
    case cancel, timeout, fence, preempt
}

/// What the supervisor writes when the job is over.
struct SupervisorExit: Codable, Hashable, Sendable {
    var code: Int32?
    var signal: Int32?
    /// The job could not be started at all.
    var launchError: String?
    var stopReason: StopReason?
    var endedAtMs: Int64
    /// CPU time (user + system) of the job and the descendants it waited for.
    var cpuSeconds: Double?
    /// The largest resident set of any one of those processes.
    var maxResidentBytes: Int64?
    /// The kernel's OOM killer killed a process of the job at its cgroup's memory limit.
    var outOfMemory: Bool?
}

/// One allocation's directory in the agent's state dir. The agent and the job's supervisor (another process)
/// talk only through these files, so either can die and restart without the other losing anything:
///
///     launch.json     the plan (agent, before the supervisor starts)
///     supervisor.pid  the supervisor's pid and start time (supervisor, first thing)
///     job.pid         the job's pid, also its process group (supervisor, once it runs)
///     stop            a stop request: cancel | preempt (agent); exit.json says cancel for both
///     exit.reserve    room for exit.json, taken before the job starts (supervisor, `ExitRecord.swift`)
///     exit.json       how it ended (supervisor, last; the reserve renamed)
struct JobRecord: Sendable {
    let directory: String

    init(jobsDir: String, allocationID: String) { directory = "\(jobsDir)/\(allocationID)" }
    init(directory: String) { self.directory = directory }

    var planPath: String { directory + "/launch.json" }
    var supervisorPIDPath: String { directory + "/supervisor.pid" }
    var jobPIDPath: String { directory + "/job.pid" }
    /// When the job's leader started (clock ticks since boot), for a job without cgroups: its process group can be
    /// told from another that took its number only while the leader runs (`leaderRuns`).
    var jobStartPath: String { directory + "/job.start" }
    var stopPath: String { directory + "/stop" }
    var exitPath: String { directory + "/exit.json" }
    var supervisorLogPath: String { directory + "/supervisor.log" }
    /// The path of a gang rank's hostfile, which lives outside the record (`Hostfile`).
    var hostfilePath: String { directory + "/hostfile" }

    /// The record's directory, before its plan: a stop request can land in it while the launch is prepared.
    func prepare() throws(Files.Failure) { try Files.makeDirectories(directory, mode: 0o700) }

    func create(_ plan: LaunchPlan) throws(Files.Failure) {
        try prepare()
        try Files.writeAtomically(planPath, Self.encode(plan), durable: false)
    }

    func plan() -> LaunchPlan? { decode(LaunchPlan.self, planPath) }
    func exit() -> SupervisorExit? { decode(SupervisorExit.self, exitPath) }
    func jobPID() -> pid_t? { pid(jobPIDPath) }

    /// Records the leader's start time (written before job.pid, so whoever reads job.pid finds it).
    func writeJobStart(_ pid: pid_t) {
        guard let ticks = Self.startTime(of: pid) else { return }
        try? Files.writeAtomically(jobStartPath, ticks + "\n", durable: false)
    }

    /// Whether `pid` is still the job's leader as its supervisor recorded it: true where no start time was
    /// recorded (a supervisor of an earlier version), false once the leader is gone or another process has its pid.
    func leaderRuns(_ pid: pid_t) -> Bool {
        guard let text = try? Files.read(jobStartPath, limit: 64) else { return !Files.exists(jobStartPath) }
        return Self.startTime(of: pid) == text.trimmingWhitespace()
    }

    func stopRequest() -> StopReason? {
        guard let text = try? Files.read(stopPath, limit: 64) else { return nil }
        return StopReason(rawValue: text.trimmingWhitespace()) ?? .cancel
    }

    /// The agent's stop request, a cancel or a preemption (time limits and fencing are the supervisor's own).
    func requestStop(_ reason: StopReason = .cancel) {
        guard !Files.exists(stopPath) else { return }
        try? prepare()
        try? Files.writeAtomically(stopPath, reason.rawValue + "\n", durable: false)
    }

    // Records need to outlive a process, not the machine (a reboot voids them): no fsync, which would cost
    // every job start several disk flushes.
    func write(pid: pid_t, to path: String) { try? Files.writeAtomically(path, "\(pid)\n", durable: false) }

    /// The supervisor records itself as "pid starttime" (the start time from /proc/PID/stat), so a process
    /// that took its pid after it died is never mistaken for it (zygote-forked supervisors share the
    /// zygote's command line, so that cannot tell them apart).
    func writeSupervisorIdentity() {
        let pid = getpid()
        try? Files.writeAtomically(
            supervisorPIDPath,
            "\(pid) \(Self.startTime(of: pid) ?? "")\n",
            durable: false
        )
    }

    /// The supervisor's pid while it runs; nil when it never recorded itself or is gone.
    func liveSupervisor() -> pid_t? {
        guard let text = try? Files.read(supervisorPIDPath, limit: 64) else { return nil }
        let fields = text.split(separator: " ").map { String($0).trimmingWhitespace() }
        guard let first = fields.first, let pid = pid_t(first), pid > 1, fields.count == 2,
            let recorded = fields.last, !recorded.isEmpty, Self.startTime(of: pid) == recorded
        else { return nil }
        return pid
    }

    /// When the process started (clock ticks since boot), from LinuxSystem's /proc/PID/stat parser.
    static func startTime(of pid: pid_t) -> String? { ProcessStat.startTicks(of: pid).map { String($0) } }

    func remove() {
        let hostfile = Files.read(hostfilePath, from: 0, limit: 4096)
        if !hostfile.isEmpty { Hostfile.remove(String(decoding: hostfile, as: UTF8.self)) }
        for name in Files.list(directory) { unlink("\(directory)/\(name)") }
        rmdir(directory)
    }

    // Plain JSON keys, not the wire's snake_case: the records are the agent's own, and converting every key
    // made decoding launch.json the largest cost of starting a supervisor (`perf`, `just bench`).
    private func decode<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
        Self.decode(type, Files.read(path, from: 0, limit: 16 << 20))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "{}"
    }

    private func pid(_ path: String) -> pid_t? {
        guard let text = try? Files.read(path, limit: 64), let pid = pid_t(text.trimmingWhitespace()), pid > 1
        else { return nil }
        return pid
    }
}
