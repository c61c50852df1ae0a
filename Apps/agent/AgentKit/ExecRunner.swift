import CLinuxShims
import ClusterWire
import CorralSupport
import Glibc
import HTTPKit
import LinuxSystem

/// `corral exec` on the node: runs a command in a running job's context (its account, its cgroups, its mount
/// namespace with the same GPUs hidden, its environment and working directory) and posts the output back to
/// the controller in chunks, then how it ended. Stdin is /dev/null.
struct ExecRunner: Sendable {
    let node: String
    let log: any LogSink
    let client: @Sendable () async -> HTTPClient
    let slots = ExecSlots()

    /// Runs `request` in the job whose plan and pid are given (nil when the job is not running here).
    func run(_ request: ExecAssignment, plan: LaunchPlan?, pid: pid_t?) async {
        // Never the node's own context: not a container job (its process is the docker client), and from a root
        // agent only into a job that runs as an account of its own.
        guard let plan, let pid, Processes.alive(pid), plan.spec.image == nil, getuid() != 0 || plan.account != nil
        else {
            await post(
                request.sessionId,
                ExecReport(data: [], done: true, error: "the job is not running on node \(node)")
            )
            return
        }
        guard await slots.take() else {
            await post(
                request.sessionId,
                ExecReport(data: [], done: true, error: "node \(node) runs \(ExecSlots.limit) execs already: try again")
            )
            return
        }
        defer { Task { await slots.give() } }
        let started: (pid: pid_t, output: Int32)
        do {
            started = try Self.start(request.command, plan: plan, jobPID: pid)
        } catch {
            await post(request.sessionId, ExecReport(data: [], done: true, error: error.description))
            return
        }
        log.info("allocation \(request.allocationId): exec session \(request.sessionId) started pid \(started.pid)")
        var pending: [UInt8] = []
        var ended = false
        var delivered = true
        while !ended && delivered {
            let (chunk, finished) = await Threads.run { Self.readSome(started.output, child: started.pid) }
            pending += chunk
            ended = finished
            if !pending.isEmpty && (pending.count >= 64 * 1024 || chunk.isEmpty || ended) {
                while delivered && !pending.isEmpty {
                    let part = Array(pending.prefix(ExecReport.maxChunk))
                    delivered = await post(request.sessionId, ExecReport(data: part, done: false))
                    pending.removeFirst(part.count)
                }
            }
        }
        // Nobody can read its output any more (the session is gone, the controller out of reach): it ends.
        if !delivered {
            log.warning("exec session \(request.sessionId): its output cannot be delivered; killing it")
            Processes.signalGroup(started.pid, SIGKILL)
        }
        close(started.output)
        let status = await Threads.run { () -> Int32 in
            var status: Int32 = 0
            while waitpid(started.pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
        let signal = status & 0x7f
        await post(
            request.sessionId,
            ExecReport(
                data: [],
                done: true,
                exitCode: signal == 0 ? (status >> 8) & 0xff : nil,
                signal: signal == 0 ? nil : signal
            )
        )
    }

    /// Starts the command as the job runs: same account, cgroups, mount namespace, environment and cwd.
    static func start(_ command: [String], plan: LaunchPlan, jobPID: pid_t) throws(LaunchError) -> (pid_t, Int32) {
        guard let program = command.first, !program.isEmpty else { throw LaunchError("no command") }
        let executable = try LaunchPlan.resolve(program, cwd: plan.cwd, path: plan.environment["PATH"] ?? "")
        var fds: [Int32] = [-1, -1]
        guard clinux_pipe2(&fds, O_CLOEXEC) == 0 else { throw LaunchError("cannot make a pipe") }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(fds[1])
            if null >= 0 { close(null) }
        }
        var spawn = JobSpawn(executable: executable, arguments: command, environment: plan.environment)
        spawn.workingDirectory = plan.cwd
        spawn.input = null >= 0 ? null : nil
        spawn.output = fds[1]
        spawn.account = plan.account
        spawn.cgroupProcs = plan.cgroup?.procsFiles ?? []
        var namespace: Int32 = -1
        defer { if namespace >= 0 { close(namespace) } }
        if getuid() == 0 {
            // Opened first, then checked: if the job's pid was reused by another process in between, that one is
            // not in the job's cgroup, and nothing is entered.
            namespace = open("/proc/\(jobPID)/ns/mnt", O_RDONLY | O_CLOEXEC)
            let cgroups = FileText.read("/proc/\(jobPID)/cgroup") ?? ""
            let name = "/" + (plan.cgroup?.tracking.directory.split(separator: "/").last.map(String.init) ?? "")
            guard namespace >= 0,
                plan.cgroup == nil || cgroups.split(separator: "\n").contains(where: { $0.hasSuffix(name) })
            else {
                close(fds[0])
                throw LaunchError("the job is not running any more")
            }
            spawn.mountNamespace = "/proc/self/fd/\(namespace)"
        }
        do {
            return (try Processes.spawn(spawn), fds[0])
        } catch {
            close(fds[0])
            throw LaunchError(error.message)
        }
    }

    /// Up to 64 KiB of output, waiting at most 200 ms; finished once the command has exited and its output
    /// is drained (a process it left behind holding the pipe does not keep the session open).
    static func readSome(_ fd: Int32, child: pid_t) -> ([UInt8], Bool) {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, 200)
        if ready > 0 {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { return (Array(buffer[..<count]), false) }
            if count == 0 { return ([], true) }
        }
        // No output now: done if the command has exited (its status stays for the final waitpid).
        var info = siginfo_t()
        let exited =
            waitid(P_PID, id_t(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0
            && info._sifields._sigchld.si_pid == child
        return ([], exited)
    }

    /// Whether the controller took the report: false when the session is gone (404) or it stayed out of reach.
    @discardableResult
    private func post(_ session: String, _ report: ExecReport) async -> Bool {
        for attempt in 0..<5 {
            do {
                let response = try await client().execute(
                    .post,
                    "/v1/agents/\(node)/exec/\(session)",
                    body: WireJSON.encode(report)
                )
                if response.status == 200 { return true }
                if response.status == 404 { return false }
            } catch {
                log.warning("exec session \(session): cannot post output: \(error)")
            }
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
        return false
    }
}

/// At most `limit` execs run on a node at once.
actor ExecSlots {
    static let limit = 32
    private var running = 0

    func take() -> Bool {
        guard running < Self.limit else { return false }
        running += 1
        return true
    }

    func give() { running = max(0, running - 1) }
}
