import Foundation
import Glibc
import LinuxSystem
import TestSupport
import Testing

@testable import NodeProbe

/// Per-job usage from /proc: the stat parser against lines in the kernel's format (`proc(5)`), a fixture
/// /proc tree, and a real process group of this machine.
@Suite struct ProcessUsageTests {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    // priority nice threads itrealvalue starttime vsize rss ...
    static let python =
        "4242 (python3) R 4200 4200 4200 0 -1 4194304 1000 0 0 0 250 50 30 20 20 0 8 0 123456 1000000 2048 "
        + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0"

    @Test func parsesTheFieldsItUses() throws {
        let stat = try #require(ProcessStat(Self.python))
        #expect(stat.pid == 4242 && stat.state == "R" && stat.processGroup == 4200)
        #expect(stat.cpuTicks == 350)
        #expect(stat.residentPages == 2048)
        #expect(stat.startTicks == 123_456)
    }

    /// A command name may hold spaces and parentheses (a process can name itself anything).
    @Test func aHostileCommandNameDoesNotShiftTheFields() throws {
        let line = Self.python.replacingOccurrences(of: "(python3)", with: "(evil) 1 2 (x) R)")
        let stat = try #require(ProcessStat(line))
        #expect(stat.processGroup == 4200 && stat.cpuTicks == 350)
    }

    @Test(arguments: ["", "4242", "4242 (x", "abc (x) R 1 2", "4242 (x) R 1 x 3", "4242 (x) R 1 2 3 4 5 6 7 8 9 10 11"])
    func malformedLinesAreNil(_ line: String) {
        #expect(ProcessStat(line) == nil)
    }

    @Test func sumsAGroupFromAFixtureTree() throws {
        try withTemporaryDirectory { root in
            func process(_ pid: Int, group: Int, state: String = "S", utime: Int, rss: Int) throws {
                try FileManager.default.createDirectory(
                    atPath: "\(root)/proc/\(pid)",
                    withIntermediateDirectories: true
                )
                let line =
                    "\(pid) (job) \(state) 1 \(group) \(group) 0 -1 0 0 0 0 0 \(utime) 0 0 0 20 0 1 0 1 1 \(rss) 0\n"
                try line.write(toFile: "\(root)/proc/\(pid)/stat", atomically: true, encoding: .utf8)
            }
            try process(100, group: 100, utime: 100, rss: 10)
            try process(101, group: 100, utime: 50, rss: 5)
            try process(102, group: 100, state: "Z", utime: 999, rss: 0)  // a zombie counts for nothing
            try process(200, group: 200, utime: 7, rss: 1)
            try FileManager.default.createDirectory(atPath: "\(root)/proc/self", withIntermediateDirectories: true)
            let usage = ProcessSampler.sample(groups: [100, 300], root: root)
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
            #expect(usage.keys.sorted() == [100])
            #expect(usage[100]?.processes == 2)
            #expect(usage[100]?.cpuSeconds == 150 / ticks)
            #expect(usage[100]?.residentBytes == 15 * page)
            #expect(usage[100]?.pids.sorted() == [100, 101])
        }
    }

    @Test func measuresARealProcessGroup() throws {
        // A sleep leading a process group of its own, as the agent's jobs do.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, "/bin/sleep", nil, &attributes, argv, environ) == 0)
        defer {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
        // A process that has just executed may show 0 resident pages in /proc/PID/stat for a moment: the kernel
        // folds its per-CPU counts of them in later. So ask until it shows some (at most 2 s).
        var usage = ProcessSampler.sample(groups: [pid])
        for _ in 0..<200 where (usage[pid]?.residentBytes ?? 0) == 0 {
            usleep(10_000)
            usage = ProcessSampler.sample(groups: [pid])
        }
        #expect(usage[pid]?.processes == 1)
        #expect((usage[pid]?.residentBytes ?? 0) > 0)
        #expect(usage[pid]?.pids == [pid])
        #expect(ProcessSampler.sample(groups: []).isEmpty)
    }
}

@Suite struct ComputeAppsTests {
    @Test("recorded: the real H100 running a CUDA job")
    func parsesTheRecordedOutput() throws {
        let apps = try NvidiaSMI.parseComputeApps(try Fixture.text("h100-real/compute-apps-running.csv"))
        #expect(apps.count == 1)
        #expect(apps.first?.pid == 520)
        #expect(apps.first?.gpuUUID == "GPU-c13af5c7-2529-834a-a469-e05ba15f3fbf")
        #expect(apps.first?.usedMemoryMiB == 710)
    }

    @Test("recorded: no processes is an empty output")
    func parsesTheRecordedEmptyOutput() throws {
        #expect(try NvidiaSMI.parseComputeApps(try Fixture.text("h100-real/compute-apps.csv")).isEmpty)
    }

    @Test func toleratesNotesPlaceholdersAndCommasInNames() throws {
        let output = """
            No running processes found
            12, GPU-a, [N/A], /opt/app, with, commas
            13, GPU-b, 2048, python3\r
            """
        let apps = try NvidiaSMI.parseComputeApps(output)
        #expect(apps.map(\.pid) == [12, 13])
        #expect(apps[0].usedMemoryMiB == nil && apps[1].usedMemoryMiB == 2048)
    }

    @Test(arguments: [
        "0, GPU-a, 1, x", "99999999999, GPU-a, 1, x", "12, GPU-a, lots, x", "1x, GPU-a, 1, x", "12, GPU-a, -5, x",
    ])
    func badNumbersAreErrors(_ line: String) {
        #expect(throws: ProbeError.self) { try NvidiaSMI.parseComputeApps(line) }
    }
}
