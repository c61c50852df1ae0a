import ClusterWire
import Foundation
import Glibc
import LinuxSystem

/// A process that is none of the cluster's: `sleep 600` in a session of its own (its group's number is its
/// pid), for tests that stage a job's pid or group number passing to another process. `end()` kills and reaps it.
struct Bystander {
    let pid: pid_t

    init() throws {
        var sleeper = JobSpawn(executable: "/bin/sleep", arguments: ["sleep", "600"], environment: [:])
        sleeper.workingDirectory = "/"
        pid = try Processes.spawn(sleeper)
    }

    func end() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

extension TestCluster {
    /// Job `id`'s supervisor dies while its agent is away, and the job's recorded pid has passed to `bystander`
    /// meanwhile (job.pid rewritten): kill -9 the agent, then the supervisor, rewrite, start the agent again, and
    /// return the job once it has ended.
    func staleSupervisorDeath(
        of id: String,
        agent name: String,
        record: String,
        supervisor: pid_t,
        bystander: Bystander
    ) async throws -> JobView {
        if let agent = agents[name] {
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        kill(supervisor, SIGKILL)
        try "\(bystander.pid)\n".write(toFile: record + "/job.pid", atomically: true, encoding: .utf8)
        try await restartAgent(name)
        return try await waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
    }
}
