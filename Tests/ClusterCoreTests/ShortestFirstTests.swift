import ClusterCore
import Testing

/// The shortest-first policy (issue 15, chosen by replaying the openb trace; docs/scheduling.md): the order
/// with its protected jobs, end-time placement, and the draining node.
@Suite struct ShortestFirstTests {
    typealias F = Fixtures
    static let now = Timestamp(milliseconds: 100_000_000)
    static let policy: SchedulingPolicy = {
        var policy = SchedulingPolicy.standard
        _ = policy.use("shortest-first")
        return policy
    }()

    static func job(_ id: String, gpus: Int, limit: Int, waited: Int64) -> Job {
        F.job(id, gpus: gpus, submittedAt: now.milliseconds - waited * 1000, timeLimit: limit)
    }

    @Test func shorterFirstButTheOldestLargeJobAndStretchedOnesAreProtected() {
        let jobs = [
            Self.job("long-small", gpus: 1, limit: 36_000, waited: 60),
            Self.job("short", gpus: 1, limit: 60, waited: 10),
            Self.job("big-old", gpus: 8, limit: 7_200, waited: 600),
            Self.job("big-new", gpus: 8, limit: 3_600, waited: 30),
            // Waited 40 min on a 10-minute limit: expansion factor 5.
            Self.job("stretched", gpus: 1, limit: 600, waited: 2_400),
            Self.job("medium", gpus: 1, limit: 300, waited: 5),
        ]
        let order = Scheduler.ordered(jobs, policy: Self.policy, usage: FairShareUsage(), now: Self.now).map(
            \.id.rawValue
        )
        #expect(order == ["stretched", "big-old", "short", "medium", "big-new", "long-small"], "\(order)")
        // The old policy: submit order.
        let old = Scheduler.ordered(jobs, policy: .standard, usage: FairShareUsage(), now: Self.now).map(\.id.rawValue)
        #expect(old.first == "stretched" && old.last == "medium")
    }

    @Test func aJobGoesWhereItPushesTheLastEndLeastThenBestFit() {
        let nodes = [F.node("a", gpus: 8), F.node("b", gpus: 8)]
        // a: a job until +10 h on 6 GPUs; b: a job until +1 h on 2 GPUs. Best fit says a (2 free); so does end
        // time for a 2 h job (it ends before a's last end); a 20 h job goes to b: it pushes a's end 10 h, b's 19.
        let held = [
            HeldResources(
                node: NodeID("a"),
                gpuIndices: Array(0..<6),
                resources: Resources(gpus: 6),
                job: JobID("x"),
                expectedEnd: Self.now + .seconds(36_000)
            ),
            HeldResources(
                node: NodeID("b"),
                gpuIndices: [0, 1],
                resources: Resources(gpus: 2),
                job: JobID("y"),
                expectedEnd: Self.now + .seconds(3_600)
            ),
        ]
        func node(_ limit: Int) -> String? {
            let job = F.job("j", gpus: 2, timeLimit: limit)
            let schedule = Scheduler.plan(
                ClusterSnapshot(pending: [job], nodes: nodes, held: held, now: Self.now),
                policy: Self.policy
            )
            return schedule.assignments.first?.node.rawValue
        }
        #expect(node(7_200) == "a")
        #expect(node(72_000) == "a", "a: pushed 10 h; b: pushed 19 h")
        let bestFit = Scheduler.plan(
            ClusterSnapshot(pending: [F.job("j", gpus: 2, timeLimit: 72_000)], nodes: nodes, held: held, now: Self.now),
            policy: .standard
        )
        #expect(bestFit.assignments.first?.node == NodeID("a"))
        // Where the end-time rule and best fit disagree: b's job ends at +20 h, a's at +1 h. A 2 h job pushes a
        // by 1 h and b by nothing: b, though a is the tighter fit.
        var later = held
        later[0].expectedEnd = Self.now + .seconds(3_600)
        later[1].expectedEnd = Self.now + .seconds(72_000)
        let schedule = Scheduler.plan(
            ClusterSnapshot(pending: [F.job("j", gpus: 2, timeLimit: 7_200)], nodes: nodes, held: later, now: Self.now),
            policy: Self.policy
        )
        #expect(schedule.assignments.first?.node == NodeID("b"))
    }

    @Test func theNodeThatEndsSoonestTakesNoLongUnprotectedJob() {
        let nodes = ["a", "b", "c", "d"].map { F.node($0, gpus: 8) }
        // b, c, d run jobs until +5 h; a is empty: it drains soonest.
        let held = ["b", "c", "d"].map {
            HeldResources(
                node: NodeID($0),
                gpuIndices: [0],
                resources: Resources(gpus: 1),
                job: JobID("r-\($0)"),
                expectedEnd: Self.now + .seconds(18_000)
            )
        }
        func placed(_ limit: Int, on count: Int = 4) -> String? {
            let schedule = Scheduler.plan(
                ClusterSnapshot(
                    pending: [F.job("j", gpus: 1, submittedAt: Self.now.milliseconds, timeLimit: limit)],
                    nodes: Array(nodes.prefix(count)),
                    held: Array(held.prefix(count - 1)),
                    now: Self.now
                ),
                policy: Self.policy
            )
            return schedule.assignments.first?.node.rawValue
        }
        #expect(placed(12 * 3600) != "a", "a long job keeps off the draining node")
        // A long job (1 GPU: not protected) that fits only on the draining node waits: no reservation, no
        // preemption for it.
        var preempting = Self.policy
        preempting.setQueue(QueueConfig(name: "default", priority: 5))
        preempting.setQueue(QueueConfig(name: "low", priority: 0, preemptible: true))
        let full = ["b", "c", "d"].map {
            HeldResources(
                node: NodeID($0),
                gpuIndices: Array(0..<8),
                resources: Resources(gpus: 8),
                job: JobID("f-\($0)"),
                queue: "mid",
                expectedEnd: Self.now + .seconds(18_000)
            )
        }
        let waiting = Scheduler.plan(
            ClusterSnapshot(
                pending: [F.job("long", gpus: 1, submittedAt: Self.now.milliseconds, timeLimit: 12 * 3600)],
                nodes: nodes,
                held: full,
                now: Self.now
            ),
            policy: preempting
        )
        #expect(waiting.assignments.isEmpty && waiting.preemptions.isEmpty && waiting.reservation == nil)
        #expect(waiting.pending[JobID("long")] == .resources)
        #expect(placed(12 * 3600) != nil)
        #expect(placed(3600) != nil)
        // Three nodes: nothing is held back.
        let small = Scheduler.plan(
            ClusterSnapshot(
                pending: [F.job("j", gpus: 8, submittedAt: Self.now.milliseconds, timeLimit: 12 * 3600)],
                nodes: Array(nodes.prefix(3)),
                held: Array(held.prefix(2)),
                now: Self.now
            ),
            policy: Self.policy
        )
        #expect(small.assignments.first?.node == NodeID("a"))
    }
}
