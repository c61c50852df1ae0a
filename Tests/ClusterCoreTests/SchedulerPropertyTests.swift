import ClusterCore
import ClusterCoreTesting
import Testing

/// Property tests of `Scheduler.plan` with queues, users, limits, fair share and time limits: the checks of
/// `SchedulerTests.violations`, plus best fit, backfill and explain.
@Suite struct SchedulerPropertyTests {
    typealias Scenario = SchedulerTests.Scenario

    static let users = ["ann", "bob", "cy"]

    /// `SchedulerTests.randomScenario`, given queues, users, time limits, usage and ends for what runs.
    static func randomPolicyScenario(_ rng: inout SplitMix64) -> Scenario {
        var s = SchedulerTests.randomScenario(&rng)
        s.now = Timestamp(milliseconds: 1_000_000)
        s.policy = SchedulingPolicy(
            queues: [
                QueueConfig(
                    name: "default",
                    maxRunningGPUsPerUser: Bool.random(using: &rng) ? nil : Int.random(in: 1...10, using: &rng),
                    defaultTimeLimit: Bool.random(using: &rng) ? nil : 600 * Int.random(in: 1...6, using: &rng)
                ),
                QueueConfig(
                    name: "hi",
                    priority: 5,
                    nodeSelector: Int.random(in: 0..<3, using: &rng) == 0 ? ["zone": "a"] : [:],
                    maxRunningGPUsPerUser: Bool.random(using: &rng) ? nil : Int.random(in: 1...6, using: &rng)
                ),
            ],
            defaultTimeLimit: 600 * Int.random(in: 1...12, using: &rng)
        )
        for user in users where Bool.random(using: &rng) {
            s.usage.record(user: user, gpuSeconds: Double(Int.random(in: 1...100_000, using: &rng)), at: s.now)
        }
        let queues = ["default", "default", "hi", "gone"]
        for i in s.pending.indices {
            s.pending[i].user = users.randomElement(using: &rng)!
            s.pending[i].spec.queue = queues.randomElement(using: &rng)!
            s.pending[i].spec.timeLimit = Bool.random(using: &rng) ? nil : 300 * Int.random(in: 1...24, using: &rng)
        }
        for i in s.held.indices {
            s.held[i].user = Bool.random(using: &rng) ? users.randomElement(using: &rng)! : nil
            s.held[i].queue = queues.randomElement(using: &rng)!
            s.held[i].allocatedAt = s.now + .seconds(-Int.random(in: 0...3600, using: &rng))
            if Bool.random(using: &rng) {
                s.held[i].expectedEnd = s.now + .seconds(Int.random(in: -100...7200, using: &rng))
            }
        }
        return s
    }

    static func timeLimit(_ job: Job, _ policy: SchedulingPolicy) -> Int {
        job.spec.timeLimit ?? policy.queue(named: job.spec.queue).defaultTimeLimit ?? policy.defaultTimeLimit
    }

    static func heldEnd(_ h: HeldResources, _ s: Scenario) -> Timestamp {
        let limit = s.policy.queue(named: h.queue).defaultTimeLimit ?? s.policy.defaultTimeLimit
        return max(h.expectedEnd ?? (h.allocatedAt ?? s.now) + .seconds(limit), s.now)
    }

    struct Running {
        var gpus: Set<Int>
        var resources: Resources
        var end: Timestamp
    }

    /// The earliest time `job` fits on `node` given what runs there and when it ends (independent of the
    /// scheduler's own code).
    static func earliestStart(_ job: Job, on node: Node, running: [Running], now: Timestamp) -> Timestamp? {
        let usable = Set(node.gpus.filter { $0.healthy && SchedulerTests.typeMatches($0, job.spec) }.map(\.index))
        let moments = ([now] + running.map(\.end)).sorted()
        for moment in moments {
            let still = running.filter { $0.end > moment }
            let taken = still.reduce(into: Set<Int>()) { $0.formUnion($1.gpus) }
            let cpus = still.reduce(0) { $0 + $1.resources.cpus }
            let memory = still.reduce(Int64(0)) { $0 + $1.resources.memory }
            if usable.subtracting(taken).count >= job.spec.resources.gpus
                && node.cpus - cpus >= job.spec.resources.cpus && node.memory - memory >= job.spec.resources.memory
            {
                return moment
            }
        }
        return nil
    }

    /// Best fit, backfill and explain, on top of `SchedulerTests.violations`.
    static func policyViolations(_ s: Scenario, _ schedule: Schedule) -> [String] {
        var problems = SchedulerTests.violations(s, schedule)
        let snapshot = s.snapshot
        let order = Scheduler.ordered(s.pending, policy: s.policy, usage: s.usage, now: s.now)
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1.id, $0) })
        let jobsByID = Dictionary(uniqueKeysWithValues: s.pending.map { ($0.id, $0) })
        let nodesByID = Dictionary(s.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var running: [NodeID: [Running]] = [:]
        for h in s.held {
            running[h.node, default: []].append(
                Running(gpus: Set(h.gpuIndices), resources: h.resources, end: heldEnd(h, s))
            )
        }
        let heldRunning = running
        func freeGPUs(_ job: Job, _ node: Node, _ running: [NodeID: [Running]]) -> Int {
            let taken = (running[node.id] ?? []).reduce(into: Set<Int>()) { $0.formUnion($1.gpus) }
            return node.gpus.filter {
                $0.healthy && SchedulerTests.typeMatches($0, job.spec) && !taken.contains($0.index)
            }
            .count
        }
        func fitsNow(_ job: Job, _ node: Node, _ running: [NodeID: [Running]]) -> Bool {
            let selector = s.policy.queue(named: job.spec.queue).nodeSelector
            guard node.isSchedulable, selector.allSatisfy({ node.labels[$0.key] == $0.value }),
                job.spec.labels.allSatisfy({ node.labels[$0.key] == $0.value })
            else { return false }
            let here = running[node.id] ?? []
            return freeGPUs(job, node, running) >= job.spec.resources.gpus
                && node.cpus - here.reduce(0) { $0 + $1.resources.cpus } >= job.spec.resources.cpus
                && node.memory - here.reduce(Int64(0)) { $0 + $1.resources.memory } >= job.spec.resources.memory
        }

        // Replay the assignments in order: each went to a best-fit node at its turn.
        let reservedRank = schedule.reservation.flatMap { rank[$0.job] }
        var runningBeforeReserved: [NodeID: [Running]]?
        for a in schedule.assignments {
            guard let job = jobsByID[a.job], let node = nodesByID[a.node] else { continue }
            if let reservedRank, rank[a.job]! > reservedRank, runningBeforeReserved == nil {
                runningBeforeReserved = running
            }
            if let r = rank[a.job], let previous = schedule.assignments.first(where: { rank[$0.job]! > r }),
                schedule.assignments.firstIndex(of: previous)! < schedule.assignments.firstIndex(of: a)!
            {
                problems.append("\(a.job) placed after a lower-ordered job")
            }
            let chosen = freeGPUs(job, node, running) - job.spec.resources.gpus
            let end = s.now + .seconds(timeLimit(job, s.policy))
            for other in s.nodes where other.id != node.id && fitsNow(job, other, running) {
                let left = freeGPUs(job, other, running) - job.spec.resources.gpus
                guard left < chosen else { continue }
                let backfillExcluded =
                    schedule.reservation?.node == other.id && reservedRank.map { rank[a.job]! > $0 } == true
                    && end > schedule.reservation!.start
                if !backfillExcluded {
                    problems.append("\(a.job) on \(a.node) leaves \(chosen) GPUs; \(other.id) would leave \(left)")
                }
            }
            running[a.node, default: []].append(
                Running(gpus: Set(a.gpuIndices), resources: job.spec.resources, end: end)
            )
        }

        // Backfill never delays the reserved job: its start with every placement is no later than the
        // reservation, which is the earliest start given only the jobs ahead of it.
        if let reservation = schedule.reservation, let job = jobsByID[reservation.job],
            let node = nodesByID[reservation.node]
        {
            if schedule.pending[job.id] != .resources { problems.append("reserved \(job.id) is not Resources") }
            let withAll = earliestStart(job, on: node, running: running[node.id] ?? [], now: s.now)
            if withAll == nil || withAll! > reservation.start {
                problems.append("backfill delays \(job.id): \(String(describing: withAll)) > \(reservation.start)")
            }
            let before = runningBeforeReserved ?? running
            let ahead = earliestStart(job, on: node, running: before[node.id] ?? [], now: s.now)
            if ahead != reservation.start {
                problems.append(
                    "reservation at \(reservation.start), but \(job.id) could start at \(String(describing: ahead))"
                )
            }
        }

        // Explain agrees with the reasons.
        for job in s.pending {
            let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: s.policy)
            let never = lines.allSatisfy { $0.verdict == .never }
            switch schedule.pending[job.id] {
            case .noFeasibleNode?:
                if !never { problems.append("\(job.id) is NoFeasibleNode but explain has \(lines)") }
            case .resources?, .priority?, .queueLimit?:
                if never { problems.append("\(job.id) waits but explain says no node could ever run it") }
            case nil:
                if never { problems.append("\(job.id) was placed but explain says no node could run it") }
            default:
                break
            }
            for line in lines where line.verdict == .fits && !fitsNow(job, nodesByID[line.node]!, heldRunning) {
                problems.append("explain says \(job.id) fits on \(line.node) but it does not")
            }
        }
        return problems
    }

    @Test(arguments: [UInt64(7), 99, 0xBAC_F111, 31_337])
    func policyPropertiesHoldForRandomClusters(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var reasons: [PendingReason: Int] = [:]
        var reservations = 0
        var assigned = 0
        for round in 0..<600 {
            let s = Self.randomPolicyScenario(&rng)
            let schedule = Scheduler.plan(s.snapshot, policy: s.policy)
            let problems = Self.policyViolations(s, schedule)
            #expect(problems.isEmpty, "seed \(seed) round \(round): \(problems.prefix(5))")
            if !problems.isEmpty { return }
            var shuffled = s
            shuffled.pending.shuffle(using: &rng)
            shuffled.nodes.shuffle(using: &rng)
            shuffled.held.shuffle(using: &rng)
            #expect(Scheduler.plan(shuffled.snapshot, policy: s.policy) == schedule, "seed \(seed) round \(round)")
            for reason in schedule.pending.values { reasons[reason, default: 0] += 1 }
            if schedule.reservation != nil { reservations += 1 }
            assigned += schedule.assignments.count
        }
        #expect(assigned > 300)
        #expect(reservations > 50)
        for reason: PendingReason in [.resources, .noFeasibleNode, .dependency, .queueLimit, .priority] {
            #expect((reasons[reason] ?? 0) > 5, "\(reason) seen \(reasons[reason] ?? 0) times")
        }
    }

    /// The extra checks catch bad plans too.
    @Test func theCheckerCatchesBadPolicyPlans() {
        typealias F = Fixtures
        let nodes = [F.node("a"), F.node("b", gpus: 2)]
        let pending = [F.job("j", gpus: 2)]
        let s = Scenario(nodes: nodes, held: [], pending: pending, states: [:])
        let worstFit = Schedule(assignments: [
            Schedule.Assignment(job: JobID("j"), node: NodeID("a"), gpuIndices: [0, 1])
        ])
        #expect(Self.policyViolations(s, worstFit).contains { $0.contains("would leave 0") })
        let held = [
            HeldResources(
                node: NodeID("a"),
                gpuIndices: Array(0..<8),
                resources: Resources(gpus: 8),
                expectedEnd: s.now + .seconds(60)
            )
        ]
        var busy = Scenario(
            nodes: [F.node("a")],
            held: held,
            pending: [F.job("big", gpus: 8), F.job("long", gpus: 0, submittedAt: 1)],
            states: [:]
        )
        busy.policy = SchedulingPolicy(defaultTimeLimit: 3600)
        let lateReservation = Schedule(
            pending: [JobID("big"): .resources, JobID("long"): .resources],
            reservation: Schedule.Reservation(job: JobID("big"), node: NodeID("a"), start: s.now + .seconds(120))
        )
        #expect(Self.policyViolations(busy, lateReservation).contains { $0.contains("could start at") })
        let limit = SchedulingPolicy(queues: [QueueConfig(name: "default", maxRunningGPUsPerUser: 1)])
        var limited = Scenario(nodes: nodes, held: [], pending: pending, states: [:])
        limited.policy = limit
        let overLimit = Schedule(assignments: [
            Schedule.Assignment(job: JobID("j"), node: NodeID("b"), gpuIndices: [0, 1])
        ])
        #expect(Self.policyViolations(limited, overLimit).contains { $0.contains("over the limit") })
        #expect(Scheduler.plan(limited.snapshot, policy: limit).pending[JobID("j")] == .queueLimit)
    }
}
