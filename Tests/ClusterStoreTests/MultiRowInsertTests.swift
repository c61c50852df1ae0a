import ClusterCore
import ClusterStore
import Testing

/// A group commit's rows as multi-row INSERTs (64, 16, 4 and 1 rows a statement), on both engines: 150 jobs
/// (two of them with an attempt), their events and keys come back as written, events in the order given; a
/// duplicate id inside a statement fails the whole transaction.
@Suite struct MultiRowInsertTests {
    typealias T = ClusterDatabaseTests

    @Test(arguments: SQLEngine.allCases) func manyRowsComeBackAsWritten(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        var jobs = (0..<150).map { n in T.job("multi\(1000 + n)", submittedAt: T.t0 + .seconds(Int64(n))) }
        for n in [3, 97] {
            jobs[n].state = .succeeded
            var attempt = Attempt(
                number: 1,
                node: NodeID("n1"),
                gpuIndices: [0],
                resources: Resources(gpus: 1, cpus: 1, memory: 0),
                allocatedAt: jobs[n].submittedAt
            )
            attempt.startedAt = jobs[n].submittedAt
            attempt.endedAt = jobs[n].submittedAt + .seconds(5)
            jobs[n].attempts = [attempt]
        }
        let events = jobs.flatMap { job in
            (0..<2).map { step in
                JobEventRecord(
                    job: job.id,
                    attempt: 0,
                    from: nil,
                    to: .queued,
                    reason: "step \(step)",
                    node: nil,
                    at: job.submittedAt
                )
            }
        }
        let keys = jobs.prefix(70).map { job in
            IdempotencyRecord(user: job.user, key: "k-\(job.id)", requestHash: "h", jobs: [job.id], createdAt: T.t0)
        }
        try db.transaction {
            try db.insertJobs(jobs)
            try db.appendEvents(events)
            try db.insertIdempotencyKeys(keys)
        }
        #expect(try db.loadJobs() == jobs)
        #expect(try db.events(of: jobs[97].id).map(\.reason) == ["step 0", "step 1"])
        #expect(try db.loadIdempotencyKeys(since: T.t0).map(\.key) == keys.map(\.key))
        // A duplicate id in the middle of a 16-row statement: nothing of that transaction is stored.
        let again =
            (0..<10).map { n in T.job("later\(1000 + n)") } + [jobs[5]]
            + (10..<20).map { n in T.job("later\(1000 + n)") }
        #expect(throws: StoreError.self) { try db.transaction { try db.insertJobs(again) } }
        #expect(try db.loadJobs().count == 150)
    }
}
