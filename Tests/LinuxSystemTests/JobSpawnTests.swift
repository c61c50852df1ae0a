import Foundation
import Glibc
import LinuxSystem
import TestSupport
import Testing

/// `Processes.spawn(JobSpawn)` and `JobCgroup` against the real kernel: another account (`nobody`), a real
/// cgroup made below this test process's own (and removed), a device node hidden in a private mount
/// namespace. Needs root, as CI has.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: accounts, cgroups, mount namespaces"))
struct JobSpawnTests {
    static func output(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func theChildRunsAsTheAccountInTheCgroupWithTheDeviceHidden() throws {
        let nobody = try #require(UnixAccount.lookup("nobody"))
        #expect(UnixAccount.lookup("no-such-account-here") == nil)
        try withTemporaryDirectory { directory in
            chmod(directory, 0o755)
            let device = directory + "/nvidia0"
            #expect(mknod(device, S_IFCHR | 0o666, (1 << 8) | 3) == 0)  // /dev/null's numbers: opens when visible
            chmod(device, 0o666)
            let mask = directory + "/mask"
            #expect(FileManager.default.createFile(atPath: mask, contents: nil, attributes: [.posixPermissions: 0]))
            let layout = CgroupLayout.detect()
            let unified = try #require(layout.unified)
            let own = layout.own[""] == "/" ? "" : layout.own[""] ?? ""
            let cgroup = JobCgroup(
                tracking: .init(directory: unified + own + "/corral-spawn-test-\(getpid())", unified: true),
                memory: nil,
                cpu: nil,
                cpuacct: nil
            )
            try cgroup.create(memory: 0, cpus: 0)
            defer {
                cgroup.kill()
                for _ in 0..<100 where !cgroup.remove() { usleep(10_000) }
            }
            let log = directory + "/out"
            let fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
            defer { close(fd) }
            var spawn = JobSpawn(
                executable: "/bin/sh",
                arguments: [
                    "sh", "-c",
                    "id -u; id -g; (exec 3<\(device)) 2>/dev/null && echo open || echo hidden; setsid sleep 300 & wait",
                ],
                environment: ["PATH": "/usr/bin:/bin"]
            )
            spawn.workingDirectory = "/"
            spawn.output = fd
            spawn.account = nobody
            spawn.cgroupProcs = cgroup.procsFiles
            spawn.hiddenDevices = [device]
            spawn.mask = mask
            let pid = try Processes.spawn(spawn)
            defer { _ = reap(pid) }
            for _ in 0..<3000 where cgroup.pids().count < 2 { usleep(10_000) }
            #expect(cgroup.populated())
            #expect(cgroup.pids().contains(pid))
            #expect(cgroup.pids().count >= 2, "the setsid'd sleep is in the cgroup too")
            #expect(getsid(pid) == pid)
            for _ in 0..<3000 where Self.output(log).split(separator: "\n").count < 3 { usleep(10_000) }
            #expect(Self.output(log) == "\(nobody.uid)\n\(nobody.gid)\nhidden\n")
            // The node itself still sees the device.
            #expect(access(device, R_OK) == 0)
            cgroup.kill()
            for _ in 0..<3000 where cgroup.populated() { usleep(10_000) }
            #expect(!cgroup.populated(), "cgroup.kill left nothing, the escaped sleep included")
            #expect((cgroup.cpuSeconds() ?? -1) >= 0)
        }
    }

    @Test func eachFailingStepSaysWhichAndWhy() throws {
        let nobody = try #require(UnixAccount.lookup("nobody"))
        try withTemporaryDirectory { directory in
            chmod(directory, 0o700)  // root's: nobody may not enter it
            var spawn = JobSpawn(executable: "/bin/true", arguments: ["true"], environment: [:])
            spawn.account = nobody
            spawn.workingDirectory = directory
            #expect {
                try Processes.spawn(spawn)
            } throws: { error in
                "\(error)".contains("cannot enter working directory \(directory) as nobody")
            }
            spawn.workingDirectory = "/"
            spawn.executable = "/nonexistent-corral-dir/missing"
            #expect {
                try Processes.spawn(spawn)
            } throws: { error in
                "\(error)" == "command not found: true"
            }
            spawn.executable = "/bin/true"
            spawn.cgroupProcs = [directory + "/not-a-cgroup/cgroup.procs"]
            #expect {
                try Processes.spawn(spawn)
            } throws: { error in
                "\(error)".contains("cannot put true in its cgroup")
            }
        }
    }
}
