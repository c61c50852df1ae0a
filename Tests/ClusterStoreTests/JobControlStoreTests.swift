import ClusterCore
import ClusterStore
import Testing

/// What job control adds to the store (issue 17) survives a restart: a hold, a requeue in progress (with its
/// hold and whether an admin asked), and an updated spec; a spec not marked changed is not rewritten.
@Suite struct JobControlStoreTests {
    typealias T = ClusterDatabaseTests

    @Test(arguments: SQLEngine.allCases) func holdsRequeuesAndUpdatesSurviveAReopen(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var held = T.job("held00001")
            var requeued = T.job("requeue01")
            do {
                let db = try path.open()
                try db.insertJob(held)
                try db.insertJob(requeued)
                held.hold = JobHold(by: "root", byAdmin: true, at: T.t0 + .seconds(3))
                held.pendingReason = .held
                held.spec.timeLimit = 60
                held.spec.priority = 7
                try db.updateJob(held, spec: true)
                requeued.stopRequest = StopRequest(
                    .requeue(Requester("bob", isAdmin: false)),
                    at: T.t0 + .seconds(4)
                )
                try db.updateJob(requeued)
            }
            let jobs = try path.open().loadJobs()
            let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) })
            #expect(byID[held.id] == held)
            #expect(byID[held.id]?.spec.priority == 7 && byID[held.id]?.spec.timeLimit == 60)
            #expect(byID[requeued.id] == requeued)
        }
    }

    @Test(arguments: SQLEngine.allCases) func aSpecNotMarkedChangedIsNotRewritten(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var job = T.job("unchanged1")
            do {
                let db = try path.open()
                try db.insertJob(job)
                job.spec.priority = 99
                try db.updateJob(job)
            }
            let loaded = try path.open().loadJobs().first
            #expect(loaded?.spec.priority == T.spec().priority)
        }
    }
}
