import ClusterCore
import ClusterStore
import FoundationEssentials

/// `corral-bench seed`: writes finished jobs into a controller's database before the controller starts, through
/// the store the controller itself writes with: each job one attempt that ran 50 ms on one of `nodes` nodes,
/// with its four events. The 1,000,000-job memory run (issue 16) starts the controller on a million of them
/// rather than spending a quarter of an hour running them, then runs its fleet jobs on top.
public enum SeedBench {
    public static func run(dataDir: String, jobs: Int, nodes: Int) throws -> Figure {
        guard jobs > 0, nodes > 0 else { throw BenchError("seed needs --jobs and --nodes above 0") }
        let database = try ClusterDatabase(path: dataDir + "/corral.db")
        let spec = JobSpec(name: "seeded", command: ["true"], resources: Resources(gpus: 0, cpus: 1, memory: 0))
        let started = ContinuousClock.now
        // They ended one a millisecond, the last a minute before now (fair share and accounting see them).
        let first = Int64(Date().timeIntervalSince1970 * 1000) - Int64(jobs) - 60_000
        var written = 0
        while written < jobs {
            let count = min(10_000, jobs - written)
            try database.transaction {
                for offset in 0..<count {
                    let at = Timestamp(milliseconds: first + Int64(written + offset))
                    let number = written + offset
                    let job = seeded(spec, id: id(number), at: at, node: NodeID("sim-\(number % nodes)"))
                    try database.insertJob(job)
                    for event in events(of: job) { try database.appendEvent(event) }
                }
            }
            written += count
        }
        try database.connection.run("PRAGMA wal_checkpoint(TRUNCATE)")
        let seconds = Double(started.duration(to: .now).components.seconds)
        return Figure(
            name: "seed_finished_jobs",
            unit: "jobs",
            samples: [Double(jobs)],
            notes: "\(jobs) finished jobs written to \(dataDir)/corral.db in \(Int(seconds)) s",
            extra: ["seconds": seconds]
        )
    }

    /// The transitions a job that ran once and succeeded logs.
    static func events(of job: Job) -> [JobEventRecord] {
        let attempt = job.attempts[0]
        let steps: [(JobState?, JobState, String, Timestamp)] = [
            (nil, .queued, "submitted", job.submittedAt),
            (.queued, .allocated, "placed on \(attempt.node)", attempt.allocatedAt),
            (.allocated, .running, "started", attempt.startedAt ?? attempt.allocatedAt),
            (.running, .succeeded, "exited 0", job.updatedAt),
        ]
        return steps.map { from, to, reason, at in
            JobEventRecord(job: job.id, attempt: 1, from: from, to: to, reason: reason, node: attempt.node, at: at)
        }
    }

    /// The id of the n-th seeded job: n in the id alphabet, ten characters (random ones could collide in a
    /// million, failing the insert).
    static func id(_ number: Int) -> JobID {
        let alphabet = JobID.alphabet
        var rest = number
        var text = ""
        for _ in 0..<10 {
            text.append(alphabet[rest % alphabet.count])
            rest /= alphabet.count
        }
        return JobID(text)
    }

    /// A job that ran once and succeeded.
    static func seeded(_ spec: JobSpec, id: JobID, at submitted: Timestamp, node: NodeID) -> Job {
        var job = Job(id: id, spec: spec, user: "bench", submittedAt: submitted)
        var attempt = Attempt(
            number: 1,
            node: node,
            gpuIndices: [],
            resources: spec.resources,
            allocatedAt: submitted + .milliseconds(2)
        )
        attempt.startedAt = submitted + .milliseconds(5)
        attempt.endedAt = submitted + .milliseconds(55)
        attempt.pid = 4242
        attempt.exit = JobExit(code: 0)
        attempt.finalState = .succeeded
        job.attempts = [attempt]
        job.state = .succeeded
        job.updatedAt = submitted + .milliseconds(55)
        return job
    }
}
