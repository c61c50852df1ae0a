import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

/// A job's process group number is the job's only while a process of the group holds it. Once the leader is
/// reaped and the rest of the group is gone, the kernel may hand the number to any new process, another job's
/// session leader among them, while what is left of the job (a process that left the group with setsid) still
/// runs in the job's cgroup. The supervisor must then stop the job through its cgroup alone. The reuse is
/// staged: the kernel's next pid is set (`/proc/sys/kernel/ns_last_pid`, root) so that a bystander in a session of
/// its own gets the number the job's leader had. Root only (cgroups, ns_last_pid).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PidReuseTests {
    /// Starts `sleep 600` in a session of its own with pid `number`, if the kernel hands it out: other processes
    /// of the machine may take it first, so a few tries; nil when none got it (the test then cannot say anything).
    static func bystander(withPID number: pid_t) -> pid_t? {
        for _ in 0..<200 {
            let fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY)
            guard fd >= 0 else { return nil }
            let text = Array("\(number - 1)".utf8)
            let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == text.count else { return nil }
            guard let candidate = try? Bystander() else { return nil }
            if candidate.pid == number { return candidate.pid }
            candidate.end()
        }
        return nil
    }

    @Test func aStoppedJobsGroupNumberTakenByAnotherProcessIsNotSignalled() async throws {
        guard getuid() == 0 else { return }
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let marker = cluster.root + "/helper.pid"
        // The leader goes at the SIGTERM; a helper that left its group (setsid) ignores it and stays for the grace.
        let id = try await cluster.submit(
            ["--kill-grace", "6s", "--cwd", cluster.root],
            ["sh", "-c", "setsid sh -c 'trap \"\" TERM; echo $$ > \(marker); exec sleep 600' & exec sleep 600"]
        )
        let leader = try #require(try await cluster.waitForState(id, ["RUNNING"]).attempts.last?.pid)
        try await waitUntil("the helper has started", timeout: 10) { Int32(cluster.read(marker)) != nil }
        let helper = try #require(Int32(cluster.read(marker)))
        // The helper as it started: its number may pass to another process once it is gone (this suite hands
        // numbers out on purpose, and the others run at once).
        var buffer = [UInt8](repeating: 0, count: 1024)
        let helperStart = ProcessStat.read("/proc/\(helper)/stat", buffer: &buffer)?.startTicks
        let helperRuns = {
            var buffer = [UInt8](repeating: 0, count: 1024)
            guard let stat = ProcessStat.read("/proc/\(helper)/stat", buffer: &buffer) else { return false }
            return stat.state != "Z" && stat.startTicks == helperStart
        }
        #expect(getpgid(helper) != leader)
        #expect((try await cluster.corral(["cancel", id])).status == 0)
        // Reaped by its supervisor, the leader's number is free: nothing else of its group is left.
        try await waitUntil("the leader is gone", timeout: 10) {
            !FileManager.default.fileExists(atPath: "/proc/\(leader)")
        }
        let bystander = Self.bystander(withPID: leader)
        defer {
            if let bystander {
                kill(bystander, SIGKILL)
                var status: Int32 = 0
                waitpid(bystander, &status, 0)
            }
        }
        // Another test's process may take the number first (the suites run at once); then nothing is staged and
        // this run cannot tell, which it says rather than fail. Alone it stages it at once (the old supervisor then
        // signalled the bystander, and the job never ended).
        guard bystander != nil else {
            print("PidReuseTests: pid \(leader) was taken by another process before it could be staged; not checked")
            return
        }
        #expect(getpgid(leader) == leader)
        let done = try await cluster.waitForState(id, ["CANCELED"], timeout: 40)
        #expect(done.state == "CANCELED")
        // Gone from the job's cgroup, which is how its end is known, a killed process may still be finishing its
        // exit (the kernel empties the cgroup before the process becomes a zombie): a loaded machine showed it
        // running for a moment after CANCELED. It must be gone within that moment, not stay.
        try? await waitUntil("the helper has finished exiting", timeout: 2) { !helperRuns() }
        #expect(!helperRuns(), "the helper outlived its job")
        #expect(processRuns(leader), "the supervisor signalled a process group that was no longer the job's")
    }
}

/// A job without cgroups (a container job: its process here is its docker client, in no cgroup of the job's) whose
/// supervisor died while its agent was away: the agent kills its process group only while the leader runs as the
/// supervisor recorded it (job.start). Staged: job.pid is made to name a bystander in a session of its own, as
/// if the number had passed to it; the bystander is left alone, and the agent says why. Root only (the test
/// cluster's agents; the stand-in docker of `ContainerJobTests`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct UncontainedSupervisorDeathTests {
    @Test func aJobWithoutCgroupsIsKilledOnlyWhileItsRecordedLeaderRuns() async throws {
        guard getuid() == 0 else { return }
        let cluster = try TestCluster()
        let tools = cluster.root + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let docker = try ContainerJobTests.standInDocker(in: tools)
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        let config = cluster.root + "/node.toml"
        try (cluster.read(config) + "\n\n[containers]\ndocker = \"\(docker)\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        try await cluster.restartAgent("node")
        try await cluster.configureCLI()
        try await waitUntil("the node says it runs containers", timeout: 60) {
            (try await cluster.corral(["nodes", "show", "node"])).stdout.contains("corral.containers=docker")
        }
        let id = try await cluster.submit(["--image", "team/sleep:1", "--cwd", cluster.root], ["sleep", "600"])
        let leader = try #require(try await cluster.waitForState(id, ["RUNNING"]).attempts.last?.pid)
        defer { kill(-leader, SIGKILL) }
        let record = try #require(cluster.jobRecords(agentState: cluster.stateDir(agent: "node")).first)
        #expect(!cluster.read(record + "/job.start").isEmpty, "the supervisor records who leads a job without cgroups")
        let supervisor = try #require(cluster.supervisorPID(record))
        let bystander = try Bystander()
        defer { bystander.end() }
        let done = try await cluster.staleSupervisorDeath(
            of: id,
            agent: "node",
            record: record,
            supervisor: supervisor,
            bystander: bystander
        )
        #expect(done.state == "FAILED" && done.message?.contains("supervisor") == true, "\(done.message ?? "")")
        #expect(processRuns(bystander.pid), "the agent killed a process group that was not the job's")
        #expect(cluster.logs().contains("cannot be told from another process's"), "\(cluster.logs())")
        // The job's end says what happened: nothing was killed.
        #expect(done.message?.contains("was left") == true, "\(done.message ?? "")")
    }
}
