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

    /// Runs `request` in the job whose plan and pid are given (nil when the job is not running here).
    func run(_ request: ExecAssignment, plan: LaunchPlan?, pid: pid_t?) async {
        guard let plan, let pid, Processes.alive(pid) else {
            await post(
                request.sessionId,
                ExecReport(data: [], done: true, error: "the job is not running on node \(node)")
            )
            return
        }
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
        while !ended {
            let (chunk, finished) = await Threads.run { Self.readSome(started.output, child: started.pid) }
            pending += chunk
            ended = finished
            if !pending.isEmpty && (pending.count >= 64 * 1024 || chunk.isEmpty || ended) {
                while pending.count > ExecReport.maxChunk {
                    await post(
                        request.sessionId,
                        ExecReport(data: Array(pending.prefix(ExecReport.maxChunk)), done: false)
                    )
                    pending.removeFirst(ExecReport.maxChunk)
                }
                await post(request.sessionId, ExecReport(data: pending, done: false))
                pending = []
            }
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
        if getuid() == 0 { spawn.mountNamespace = "/proc/\(jobPID)/ns/mnt" }
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

    private func post(_ session: String, _ report: ExecReport) async {
        for attempt in 0..<5 {
            do {
                let response = try await client().execute(
                    .post,
                    "/v1/agents/\(node)/exec/\(session)",
                    body: WireJSON.encode(report)
                )
                if response.status == 200 || response.status == 404 { return }
            } catch {
                log.warning("exec session \(session): cannot post output: \(error)")
            }
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
    }
}
