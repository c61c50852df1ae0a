import ClusterWire
import CorralClient
import CorralSupport

/// Waiting for jobs to end, and the exit code that reports how they ended (`wait`, `submit --wait`, `run`).
enum JobWaiting {
    /// Waits for every job to end. One job: its exit code (0 when it succeeded, 1 when it failed without one).
    /// Several: 0 when all succeeded, else 1.
    static func wait(for jobs: [JobView], client: CorralClient, json: Bool) async throws -> Int32 {
        var finished: [JobView] = []
        for job in jobs { finished.append(try await client.wait(for: job.arraySummary?.arrayId ?? job.id)) }
        if json {
            FileHandleOutput.stdout(WireJSON.encodePretty(finished) + "\n")
        } else {
            for job in finished {
                if let summary = job.arraySummary {
                    FileHandleOutput.stderr("\(summary.arrayId): \(Tables.arrayStates(summary))\n")
                    continue
                }
                FileHandleOutput.stderr("\(job.id): \(job.state)\(job.message.map { " (\($0))" } ?? "")\n")
            }
        }
        if finished.count == 1 { return exitCode(of: finished[0]) }
        return finished.allSatisfy { exitCode(of: $0) == 0 } ? 0 : 1
    }

    static func exitCode(of job: JobView) -> Int32 {
        if let summary = job.arraySummary { return summary.states["SUCCEEDED"] == summary.tasks ? 0 : 1 }
        if job.state == "SUCCEEDED" { return 0 }
        if let code = job.exitCode, code != 0 { return code }
        if job.state == "CANCELED" { return 130 }
        return 1
    }
}
