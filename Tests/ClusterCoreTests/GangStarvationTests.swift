import ClusterCore
import ClusterCoreTesting
import Testing

/// A gang that needs the whole cluster waits behind small jobs that keep coming. EASY backfill gives it a
/// reservation on as many nodes as it has ranks; small jobs may start only if they leave that intact, so the
/// gang starts no later than the first reservation promised, however many small jobs arrive.
@Suite struct GangStarvationTests {
    struct Running {
        var job: JobID
        var node: NodeID
        var gpus: [Int]
        var resources: Resources
        var end: Timestamp
    }

    @Test(arguments: [UInt64(1), 2, 3, 99])
    func aWaitingGangStartsByItsReservationDespiteAStreamOfSmallJobs(_ seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let nodes = (0..<4).map { Fixtures.node("n\($0)", gpus: 2, cpus: 8) }
        var now = Timestamp(milliseconds: 1_000_000)
        var running: [Running] = []
        // The cluster is busy with small jobs before the gang arrives.
        for (index, node) in nodes.enumerated() {
            let end = now + .seconds(600 * (index + 1))
            running.append(
                Running(
                    job: JobID("busy\(index)"),
                    node: node.id,
                    gpus: [0],
                    resources: Resources(gpus: 1, cpus: 1),
                    end: end
                )
            )
        }
        var gang = Fixtures.job("gang", gpus: 2, cpus: 2, submittedAt: now.milliseconds, timeLimit: 3600)
        gang.spec.nodes = 4
        var pending = [gang]
        var promised: Timestamp?
        var started: Timestamp?
        var smallStarted = 0
        for tick in 0..<400 {
            running.removeAll { $0.end <= now }
            // A stream of small jobs: every tick one or two more, each of 5 to 60 minutes.
            for k in 0..<Int.random(in: 1...2, using: &rng) {
                pending.append(
                    Fixtures.job(
                        "s\(tick)-\(k)",
                        gpus: 1,
                        cpus: 1,
                        submittedAt: now.milliseconds + 1,
                        timeLimit: 300 * Int.random(in: 1...12, using: &rng)
                    )
                )
            }
            let held = running.map {
                HeldResources(
                    node: $0.node,
                    gpuIndices: $0.gpus,
                    resources: $0.resources,
                    job: $0.job,
                    expectedEnd: $0.end
                )
            }
            let schedule = Scheduler.plan(
                ClusterSnapshot(pending: pending, nodes: nodes, held: held, now: now),
                policy: .standard
            )
            if promised == nil, let reservation = schedule.reservation {
                #expect(reservation.job == JobID("gang"))
                #expect(reservation.nodes.count == 4)
                promised = reservation.start
            }
            for assignment in schedule.assignments {
                guard let job = pending.first(where: { $0.id == assignment.job }) else { continue }
                running.append(
                    Running(
                        job: job.id,
                        node: assignment.node,
                        gpus: assignment.gpuIndices,
                        resources: job.spec.resources,
                        end: now + .seconds(job.spec.timeLimit ?? 3600)
                    )
                )
                smallStarted += 1
            }
            if let placed = schedule.gangAssignments.first {
                #expect(placed.ranks.count == 4)
                started = now
                break
            }
            let placedIDs = Set(schedule.assignments.map(\.job))
            pending.removeAll { placedIDs.contains($0.id) }
            now = now + .seconds(60)
        }
        let promise = try #require(promised, "the gang never got a reservation")
        let start = try #require(started, "the gang never started (seed \(seed))")
        #expect(start <= promise + .seconds(60), "started \(start), promised \(promise)")
        // Backfill did its job meanwhile: small jobs ran while the gang waited.
        #expect(smallStarted > 0)
    }
}
