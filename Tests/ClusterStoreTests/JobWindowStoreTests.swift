import ClusterCore
import ClusterStore
import Testing

/// What the controller reads from the store once finished jobs are not all in memory (issue 16): the window it
/// loads at start, one job, pages of ids with filters and a cursor, id prefixes, an array's tasks, accounting's
/// jobs and the counts; wildcards in what a user typed match nothing.
@Suite struct JobWindowStoreTests {
    typealias T = ClusterDatabaseTests

    /// Ten jobs a second apart: five succeeded (the last two of them updated last), a running one whose
    /// attempt is live, a CANCELED one whose attempt is still live, queued ones, and an array of three tasks.
    static func fill(_ db: ClusterDatabase) throws -> [Job] {
        var jobs: [Job] = []
        for n in 0..<10 {
            var job = T.job("job\(n)aaaaa", submittedAt: T.t0 + .seconds(Int64(n)), user: n % 2 == 0 ? "alice" : "bob")
            if n < 5 {
                job.state = .succeeded
                job.updatedAt = T.t0 + .seconds(Int64(100 - n))
                var attempt = Attempt(
                    number: 1,
                    node: NodeID("n1"),
                    gpuIndices: [0],
                    resources: Resources(gpus: 1, cpus: 1, memory: 0),
                    allocatedAt: job.submittedAt
                )
                attempt.startedAt = job.submittedAt
                attempt.endedAt = job.submittedAt + .seconds(10)
                job.attempts = [attempt]
            } else if n < 7 {
                job.state = n == 5 ? .running : .canceled
                job.attempts = [
                    Attempt(
                        number: 1,
                        node: NodeID("n1"),
                        gpuIndices: [],
                        resources: Resources(gpus: 0, cpus: 1, memory: 0),
                        allocatedAt: job.submittedAt
                    )
                ]
            }
            jobs.append(job)
        }
        for index in 0..<3 {
            var task = T.job("arrayaaaaa_\(index)", submittedAt: T.t0 + .seconds(20))
            task.array = ArrayTask(array: JobID("arrayaaaaa"), index: index, count: 3, limit: nil)
            task.state = index == 1 ? .failed : .succeeded
            jobs.append(task)
        }
        for job in jobs { try db.insertJob(job) }
        return jobs
    }

    @Test(arguments: SQLEngine.allCases) func theWindowKeepsLiveJobsAndTheNewestFinished(engine: SQLEngine) throws {
        try withStore(engine) { path in
            let db = try path.open()
            let jobs = try Self.fill(db)
            // Two finished by update time: job0 (updated at 100 s) and job1 (99 s); the array tasks were updated
            // at t0. Then the running one, the CANCELED one with a live attempt, and the three queued.
            let loaded = try db.loadJobs(finishedWindow: 2).map(\.id.rawValue)
            #expect(
                loaded == ["job0aaaaa", "job1aaaaa", "job5aaaaa", "job6aaaaa", "job7aaaaa", "job8aaaaa", "job9aaaaa"]
            )
            #expect(try db.loadJobs(finishedWindow: 0).count == 5)
            #expect(try db.loadJobs(finishedWindow: 1000).count == jobs.count)
            #expect(try db.loadJob(JobID("job3aaaaa")) == jobs[3])
            #expect(try db.loadJob(JobID("nosuchjob")) == nil)
            #expect(try db.jobCounts() == [.succeeded: 7, .running: 1, .canceled: 1, .queued: 3, .failed: 1])
        }
    }

    @Test(arguments: SQLEngine.allCases) func pagesFilterAndResumeAfterACursor(engine: SQLEngine) throws {
        try withStore(engine) { path in
            let db = try path.open()
            let jobs = try Self.fill(db)
            func ids(
                _ filter: ClusterDatabase.JobFilter,
                after cursor: JobID? = nil,
                limit: Int = 100
            ) throws -> [String] {
                var found: [String] = []
                try db.forEachJobID(filter, after: cursor) { id in
                    found.append(id.rawValue)
                    return found.count < limit
                }
                return found
            }
            let all = ClusterDatabase.JobFilter()
            #expect(try ids(all) == jobs.reversed().map(\.id.rawValue))
            #expect(try ids(all, limit: 2) == ["arrayaaaaa_2", "arrayaaaaa_1"])
            #expect(try ids(all, after: JobID("job2aaaaa")) == ["job1aaaaa", "job0aaaaa"])
            // An unknown cursor starts from the newest, as the listing always did.
            #expect(try ids(all, after: JobID("nosuchjob"), limit: 1) == ["arrayaaaaa_2"])
            var filter = ClusterDatabase.JobFilter()
            filter.states = [.queued, .running]
            filter.user = "bob"
            #expect(try ids(filter) == ["job9aaaaa", "job7aaaaa", "job5aaaaa"])
            filter = ClusterDatabase.JobFilter()
            filter.idPrefix = "arrayaaaaa_"
            #expect(try ids(filter) == ["arrayaaaaa_2", "arrayaaaaa_1", "arrayaaaaa_0"])
            filter.idPrefix = "*"
            #expect(try ids(filter).isEmpty)
            #expect(try db.jobIDs(withPrefix: "job3", limit: 5) == [JobID("job3aaaaa")])
            // A user's own: another user's jobs with the prefix do not crowd them out of the limit.
            #expect(
                try db.jobIDs(withPrefix: "job", user: "bob", limit: 2) == [JobID("job1aaaaa"), JobID("job3aaaaa")]
            )
            #expect(try db.hasJob(JobID("job3aaaaa")) && !(try db.hasJob(JobID("job3aaaab"))))
            #expect(try db.jobIDs(withPrefix: "job", limit: 3).count == 3)
            for hostile in ["*", "?", "[a-z]", "job*"] { #expect(try db.jobIDs(withPrefix: hostile, limit: 5).isEmpty) }
            let tasks = try db.arrayTaskStates(JobID("arrayaaaaa"))
            #expect(tasks.map(\.id.rawValue) == ["arrayaaaaa_0", "arrayaaaaa_1", "arrayaaaaa_2"])
            #expect(tasks.map(\.state) == [.succeeded, .failed, .succeeded])
            #expect(try db.arrayTaskStates(JobID("job1aaaaa")).isEmpty)
            #expect(try db.arrayTaskStates(JobID("*")).isEmpty)
        }
    }

    @Test(arguments: SQLEngine.allCases) func accountingReadsEveryJobThatMayHaveRunSinceAndFairShareEveryGPUAttempt(
        engine: SQLEngine
    ) throws {
        try withStore(engine) { path in
            let db = try path.open()
            _ = try Self.fill(db)
            // Changed from 97 s on (job0-3: 100, 99, 98, 97 s), or not ended (job5, job7-9); nothing was
            // submitted that late, and job6 ended (CANCELED) at 6 s.
            func accounted(_ since: Timestamp, _ user: String?) throws -> [Job] {
                var found: [Job] = []
                try db.forEachAccountedJob(activeSince: since, user: user) { found.append($0) }
                return found
            }
            let since = try accounted(T.t0 + .seconds(97), nil).map(\.id.rawValue)
            #expect(
                since == [
                    "job0aaaaa", "job1aaaaa", "job2aaaaa", "job3aaaaa", "job5aaaaa", "job7aaaaa",
                    "job8aaaaa", "job9aaaaa",
                ]
            )
            let alice = try accounted(T.t0 + .seconds(97), "alice").map(\.id.rawValue)
            #expect(alice == ["job0aaaaa", "job2aaaaa", "job8aaaaa"])
            let all = try accounted(T.t0 + .seconds(8), nil)
            #expect(all.count == 12)
            // Each with its attempts, its queue and its name, as stored.
            let stored = Dictionary(uniqueKeysWithValues: try db.loadJobs().map { ($0.id, $0) })
            for job in all {
                #expect(job.attempts == stored[job.id]?.attempts && job.state == stored[job.id]?.state)
                #expect(job.spec.queue == stored[job.id]?.spec.queue && job.spec.name == stored[job.id]?.spec.name)
                #expect(job.updatedAt == stored[job.id]?.updatedAt && job.submittedAt == stored[job.id]?.submittedAt)
            }
            var ended: [(String, Int)] = []
            try db.forEachEndedAttempt { user, attempt in ended.append((user, attempt.resources.gpus)) }
            #expect(ended.map(\.0) == ["alice", "bob", "alice", "bob", "alice"])
            #expect(ended.allSatisfy { $0.1 == 1 })
            // In pages (of 5,000; here of 1 and 2) along (job, attempt): each attempt once, in the same order, the
            // two attempts of one job across a page's end too.
            var retried = T.job("retried01", submittedAt: T.t0 + .seconds(50), user: "carol")
            retried.state = .succeeded
            retried.attempts = (1...2).map { number in
                var attempt = Attempt(
                    number: number,
                    node: NodeID("n1"),
                    gpuIndices: [0],
                    resources: Resources(gpus: 1, cpus: 1, memory: 0),
                    allocatedAt: retried.submittedAt
                )
                attempt.startedAt = retried.submittedAt
                attempt.endedAt = retried.submittedAt + .seconds(Int64(number))
                return attempt
            }
            try db.insertJob(retried)
            var whole: [String] = []
            try db.forEachEndedAttempt { user, attempt in whole.append("\(user)/\(attempt.number)") }
            #expect(
                whole.filter { $0.hasPrefix("carol/") } == ["carol/1", "carol/2"] && whole.count == ended.count + 2
            )
            for size in [1, 2] {
                var paged: [String] = []
                try db.forEachEndedAttempt(pageSize: size) { user, attempt in paged.append("\(user)/\(attempt.number)")
                }
                #expect(paged == whole, "pages of \(size)")
            }
        }
    }

    /// Ids are read in pages of 500: every one of 1,203 comes once, newest first, and a body that stops ends it.
    @Test(arguments: SQLEngine.allCases) func everyIDComesOnceAcrossPages(engine: SQLEngine) throws {
        try withStore(engine) { path in
            let db = try path.open()
            let ids = (0..<1203).map { "page\(10_000 + $0)" }
            try db.transaction { for id in ids { try db.insertJob(T.job(id)) } }
            var seen: [String] = []
            try db.forEachJobID(ClusterDatabase.JobFilter(), after: nil) { id in
                seen.append(id.rawValue)
                return true
            }
            #expect(seen == ids.reversed())
            var stoppedAt: [String] = []
            try db.forEachJobID(ClusterDatabase.JobFilter(), after: JobID("page10700")) { id in
                stoppedAt.append(id.rawValue)
                return stoppedAt.count < 3
            }
            #expect(stoppedAt == ["page10699", "page10698", "page10697"])
        }
    }

    /// A standby reads its copy of the cluster from one state of the database: a job another connection stores
    /// meanwhile is not half in it (read after, it is). The window's attempts come in one query, each job's own.
    @Test(arguments: SQLEngine.allCases) func oneStateIsReadWholeWhileAnotherConnectionWrites(engine: SQLEngine) throws
    {
        try withStore(engine) { path in
            let (reader, writer) = (try path.open(), try path.open())
            let stored = try Self.fill(writer)
            let (before, during) = try reader.readingOneState {
                let before = try reader.loadJobs(finishedWindow: 100)
                try writer.insertJob(T.job("later", submittedAt: T.t0 + .seconds(50)))
                return (before, try reader.loadJobs(finishedWindow: 100))
            }
            #expect(before.map(\.id) == during.map(\.id) && before.count == stored.count)
            #expect(before.map(\.attempts) == stored.sorted { $0.submittedAt < $1.submittedAt }.map(\.attempts))
            #expect(try reader.loadJobs(finishedWindow: 100).count == stored.count + 1)
        }
    }
}
