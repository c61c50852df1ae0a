import Foundation
import Glibc
import LinuxSystem
import TestSupport
import Testing

@Suite("CommandRunner against real processes")
struct CommandRunnerTests {
    @Test("/bin/echo")
    func echo() throws {
        let result = try CommandRunner.run("/bin/echo", ["hello", "world"], timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stdout == "hello world\n")
        #expect(result.stderr == "")
        #expect(!result.outputTruncated)
    }

    @Test("a command found on PATH")
    func pathLookup() throws {
        let result = try CommandRunner.run("echo", ["on", "path"], timeout: .seconds(5))
        #expect(result.stdout == "on path\n")
    }

    @Test("a non-zero exit with stderr")
    func nonZeroExit() throws {
        let result = try CommandRunner.run("/bin/sh", ["-c", "echo out; echo oops >&2; exit 3"], timeout: .seconds(5))
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "oops\n")
    }

    @Test("a child killed by a signal reports 128 + the signal")
    func killedBySignal() throws {
        let result = try CommandRunner.run("/bin/sh", ["-c", "kill -9 $$"], timeout: .seconds(5))
        #expect(result.status == 137)
    }

    @Test("a missing executable is commandNotFound", arguments: ["/nonexistent/nvidia-smi", "corral-no-such-tool-x9"])
    func missing(executable: String) {
        let error = #expect(throws: ProcessError.self) {
            try CommandRunner.run(executable, [], timeout: .seconds(5))
        }
        #expect(error?.code == .commandNotFound)
        #expect(error?.message == "\(executable): command not found")
    }

    @Test("a file that is not executable is permissionDenied")
    func notExecutable() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/plain"
            try "echo hi\n".write(toFile: path, atomically: true, encoding: .utf8)
            let error = #expect(throws: ProcessError.self) { try CommandRunner.run(path, [], timeout: .seconds(5)) }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message == "permission denied: \(path)")
        }
    }

    @Test("stdin is /dev/null, so a reader does not hang")
    func stdinIsNull() throws {
        let result = try CommandRunner.run("/bin/cat", [], timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stdout == "")
    }

    @Test("input reaches the child's stdin and never its arguments")
    func input() throws {
        let result = try CommandRunner.run("/bin/cat", [], timeout: .seconds(5), input: Array("s3cret\n".utf8))
        #expect(result.status == 0)
        #expect(result.stdout == "s3cret\n")
    }

    @Test("the environment is passed when given")
    func environment() throws {
        let result = try CommandRunner.run("/usr/bin/env", [], timeout: .seconds(5), environment: ["CORRAL_X": "1 2"])
        #expect(result.stdout == "CORRAL_X=1 2\n")
    }

    @Test("the child runs in its own process group")
    func ownProcessGroup() throws {
        let result = try CommandRunner.run("/bin/sh", ["-c", "echo $$ $(ps -o pgid= -p $$)"], timeout: .seconds(5))
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        if words.count == 2 {  // ps may be missing on a minimal image
            #expect(words[0] == words[1])
            #expect(Int32(words[1]) != getpgrp())
        }
    }

    @Test("output is capped at 4 MiB per stream")
    func outputCap() throws {
        let result = try CommandRunner.run("/bin/sh", ["-c", "head -c 5000000 /dev/zero"], timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(result.stdout.utf8.count == CommandRunner.outputLimit)
        #expect(result.outputTruncated)
    }

    @Test("/bin/sleep 30 with a 300 ms timeout returns quickly")
    func sleepTimesOut() {
        let start = ContinuousClock.now
        let error = #expect(throws: ProcessError.self) {
            try CommandRunner.run("/bin/sleep", ["30"], timeout: .milliseconds(300))
        }
        let elapsed = ContinuousClock.now - start
        #expect(error?.code == .timedOut)
        #expect(error?.message == "/bin/sleep timed out after 300ms; its process group was killed")
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(15))  // far below the 30 s sleep
    }

    @Test("on timeout the child and its children are killed")
    func timeoutKillsTheGroup() throws {
        try withTemporaryDirectory { directory in
            let pids = directory + "/pids"
            let script = try writeScript(
                directory,
                "hang",
                "/bin/sleep 30 &\necho $$ $! > '\(pids)'\nexec /bin/sleep 30"
            )
            let start = ContinuousClock.now
            // 3 s, not less: the script must have written its pids before the timeout kills it, which a loaded
            // machine may not do within half a second.
            let error = #expect(throws: ProcessError.self) {
                try CommandRunner.run(script, [], timeout: .seconds(3))
            }
            #expect(error?.code == .timedOut)
            #expect(ContinuousClock.now - start < .seconds(15))
            let words = try String(contentsOfFile: pids, encoding: .utf8).split(whereSeparator: \.isWhitespace)
            let ids = words.compactMap { pid_t($0) }
            #expect(ids.count == 2)
            for pid in ids {
                #expect(eventually(within: 10) { processIsGone(pid) }, "pid \(pid) still running")
            }
        }
    }

    @Test("a grandchild holding the pipes open does not hang a finished command")
    func grandchildKeepsPipes() throws {
        try withTemporaryDirectory { directory in
            let pids = directory + "/pid"
            let start = ContinuousClock.now
            let result = try CommandRunner.run(
                "/bin/sh",
                ["-c", "/bin/sleep 30 & echo $! > '\(pids)'; echo done"],
                timeout: .seconds(10)
            )
            #expect(result.stdout == "done\n")
            #expect(ContinuousClock.now - start < .seconds(15))  // did not wait for the 30 s grandchild
            if let pid = pid_t(
                try String(contentsOfFile: pids, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            ) {
                kill(pid, SIGKILL)
            }
        }
    }

    @Test("durations are described the way warnings show them")
    func describe() {
        #expect(CommandRunner.describe(.seconds(10)) == "10s")
        #expect(CommandRunner.describe(.milliseconds(300)) == "300ms")
        #expect(CommandRunner.describe(.milliseconds(1500)) == "1.5s")
    }
}
