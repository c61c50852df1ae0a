import CLinuxShims
import Foundation
import Glibc
import LinuxSystem
import TestSupport
import Testing

/// `Processes.spawn` against real processes: both groupings, the file actions, and the error messages.
@Suite struct SpawnTests {
    static let path = ["PATH": "/usr/bin:/bin"]

    func spawn(_ argv: [String], _ options: SpawnOptions) throws(ProcessError) -> pid_t {
        try Processes.spawn(argv[0], arguments: argv, environment: Self.path, options: options)
    }

    @Test func aNewSessionIsLedByTheChild() throws {
        let pid = try spawn(
            ["/bin/sleep", "30"],
            SpawnOptions(grouping: .newSession, output: .appending(toFile: "/dev/null"))
        )
        defer {
            Processes.signalGroup(pid, SIGKILL)
            _ = reap(pid)
        }
        #expect(getsid(pid) == pid)
        #expect(getpgid(pid) == pid)
        #expect(Processes.alive(pid))
        #expect(Processes.groupAlive(pid))
    }

    @Test func aNewProcessGroupStaysInTheCallersSession() throws {
        let options = SpawnOptions(grouping: .newProcessGroup, output: .appending(toFile: "/dev/null"))
        let pid = try spawn(["/bin/sleep", "30"], options)
        defer {
            Processes.signalGroup(pid, SIGKILL)
            _ = reap(pid)
        }
        #expect(getpgid(pid) == pid)
        #expect(getsid(pid) != pid)
        #expect(getsid(pid) == getsid(0))
    }

    @Test func cwdOutputAppendedStdinAndClosedDescriptors() throws {
        try withTemporaryDirectory { directory in
            let log = directory + "/out.log"
            try "before\n".write(toFile: log, atomically: false, encoding: .utf8)
            // A descriptor the child must not inherit although it is not close-on-exec.
            let leaked = open("/dev/null", O_RDONLY)
            defer { close(leaked) }
            let script =
                "pwd; read line || echo eof; echo err >&2; [ -e /proc/self/fd/\(leaked) ] && echo leaked; exit 4"
            let options = SpawnOptions(
                grouping: .newSession,
                output: .appending(toFile: log),
                workingDirectory: directory
            )
            let status = reap(try spawn(["/bin/sh", "-c", script], options))
            #expect((status >> 8) & 0xFF == 4)
            let text = try String(contentsOfFile: log, encoding: .utf8)
            let real = try #require(realpath(directory, nil))
            defer { free(real) }
            #expect(text == "before\n\(String(cString: real))\neof\nerr\n")
        }
    }

    @Test func pipesAndPathSearch() throws {
        var fds: [Int32] = [-1, -1]
        #expect(clinux_pipe2(&fds, O_CLOEXEC) == 0)
        let options = SpawnOptions(
            grouping: .newProcessGroup,
            output: .descriptors(stdout: fds[1], stderr: fds[1]),
            searchesPath: true
        )
        let pid = try Processes.spawn("echo", arguments: ["echo", "found"], environment: [:], options: options)
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        close(fds[0])
        #expect(reap(pid) == 0)
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "found\n")
    }

    @Test func anIgnoredSignalIsBackAtItsDefaultInTheChild() throws {
        // SIGUSR2 ignored here (as a supervisor ignores SIGTERM) would stay ignored across exec.
        let previous = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previous) }
        let pid = try spawn(
            ["/bin/sleep", "30"],
            SpawnOptions(grouping: .newSession, output: .appending(toFile: "/dev/null"))
        )
        kill(pid, SIGUSR2)
        let status = reap(pid)
        #expect(status & 0x7F == SIGUSR2)
    }

    @Test func failuresSayWhatIsWrong() throws {
        let session = SpawnOptions(grouping: .newSession, output: .appending(toFile: "/dev/null"))
        let missing = #expect(throws: ProcessError.self) { try spawn(["/nonexistent/tool"], session) }
        #expect(missing?.code == .commandNotFound)
        #expect(missing?.message == "/nonexistent/tool: command not found")

        var inDirectory = session
        inDirectory.workingDirectory = "/nonexistent-directory"
        let noCwd = #expect(throws: ProcessError.self) { try spawn(["/bin/true"], inDirectory) }
        #expect(noCwd?.code == .commandNotFound)
        #expect(noCwd?.message == "cannot start /bin/true: No such file or directory (command or cwd missing)")

        try withTemporaryDirectory { directory in
            let script = try writeScript(directory, "plain", "exit 0")
            chmod(script, 0o644)
            let denied = #expect(throws: ProcessError.self) { try spawn([script], session) }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message == "permission denied: \(script)")

            let unopenable = SpawnOptions(grouping: .newSession, output: .appending(toFile: directory + "/no/such.log"))
            let noLog = #expect(throws: ProcessError.self) { try spawn(["/bin/true"], unopenable) }
            #expect(noLog?.code == .cannotOpenOutput)
            #expect(noLog?.message == "cannot open log file \(directory)/no/such.log: No such file or directory")
        }
    }

    @Test func waitForExitReturnsForAChildAndForAnotherProcess() throws {
        let options = SpawnOptions(grouping: .newSession, output: .appending(toFile: "/dev/null"))
        let child = try spawn(["/bin/sh", "-c", "exit 0"], options)
        Processes.waitForExit(child, child: true)
        #expect(!Processes.alive(child))
        // Not reaped by the waiter (child: false): watched through a pidfd until it exits, then reaped here.
        let other = try spawn(["/bin/sleep", "0.2"], options)
        Processes.waitForExit(other, child: false)
        #expect(reap(other) == 0)
    }
}

/// `groupRuns` tells a group whose processes are only zombies (which a caller that is not their parent cannot
/// remove) from one with a process still running; `groupAlive`, a plain `kill(-pgid, 0)`, counts zombies.
@Suite struct GroupRunsTests {
    @Test func zombiesDoNotRun() throws {
        let pid = try Processes.spawn(
            "/bin/sleep",
            arguments: ["/bin/sleep", "30"],
            environment: ["PATH": "/usr/bin:/bin"],
            options: SpawnOptions(grouping: .newSession, output: .appending(toFile: "/dev/null"))
        )
        #expect(Processes.groupRuns(pid))
        kill(pid, SIGKILL)
        // Dead and not reaped yet: a zombie, still in its group for kill(2), not running.
        for _ in 0..<100 where Processes.groupRuns(pid) { usleep(10_000) }
        #expect(!Processes.groupRuns(pid))
        #expect(Processes.groupAlive(pid))
        _ = reap(pid)
        #expect(!Processes.groupAlive(pid))
        #expect(!Processes.groupRuns(1) && !Processes.groupRuns(0) && !Processes.groupRuns(-1))
    }
}
