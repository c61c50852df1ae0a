import ClusterCore
import CorralSupport

/// `corral-bench replay`: a trace through the real scheduler on a virtual clock (`ReplaySimulator`), printed as
/// a row of docs/scheduling.md's table.
enum ReplayCommand {
    static let usage = """
        corral-bench replay (--trace FILE | --raw FILE --target-load L) [--nodes 16] [--gpus 8] [--cpus 96]
                            [--memory-mib 393216] [--limits exact|2x-hour] [--users 20] [--seed 7] [--first N]
                            [--label TEXT] [--policy shortest-first|fair-share] [--order fair-share|shortest-first]
                            [--placement best-fit|end-time] [--drain-after SECONDS] [--reservations N]
        """

    static func run(_ arguments: [String]) throws -> String {
        let flags = try BenchArguments(
            arguments,
            known: [
                "trace", "raw", "target-load", "nodes", "gpus", "cpus", "memory-mib", "limits", "users", "seed",
                "first", "label", "order", "placement", "policy", "drain-after", "reservations",
            ]
        )
        var cluster = ReplayCluster()
        cluster.nodes = try flags.int("nodes", default: 16)
        cluster.gpusPerNode = try flags.int("gpus", default: 8)
        cluster.cpuMilliPerNode = try flags.int("cpus", default: 96) * 1000
        cluster.memoryMiBPerNode = try flags.int("memory-mib", default: 393_216)
        guard cluster.nodes > 0, cluster.nodes <= 10_000, cluster.gpusPerNode <= 64 else {
            throw UsageError("--nodes must be 1-10000 and --gpus at most 64", code: .malformedValue)
        }
        var jobs: [TraceJob]
        var source: String
        if let raw = try? flags.string("raw") {
            let load = try flags.double("target-load", default: 0)
            let prepared = try TraceWorkload.prepare(raw: raw, cluster: cluster, targetLoad: load)
            jobs = prepared.jobs
            source = "\(raw) at load \(load) (arrivals compressed \(fixed(prepared.factor, 1))x)"
        } else {
            let trace = try flags.string("trace")
            jobs = try TraceWorkload.readPrepared(trace)
            source = trace
        }
        let first = try flags.int("first", default: 0)
        if first > 0 { jobs = Array(jobs.prefix(first)) }
        var options = ReplaySimulator.Options()
        options.cluster = cluster
        let limits = try flags.string("limits", default: "exact")
        guard let rule = ReplaySimulator.LimitRule(rawValue: limits) else {
            throw UsageError("--limits must be exact or 2x-hour", code: .malformedValue)
        }
        options.limits = rule
        options.users = max(1, try flags.int("users", default: 20))
        options.seed = UInt64(try flags.int("seed", default: 7))
        // A named policy first; --order, --placement, --drain-after and --reservations then change one knob of it.
        let name = try flags.string("policy", default: "")
        if !name.isEmpty, !options.policy.use(name) {
            throw UsageError(
                "--policy must be one of \(SchedulingPolicy.names.joined(separator: ", "))",
                code: .malformedValue
            )
        }
        if let order = try? flags.string("order") {
            guard let ordering = SchedulingPolicy.Ordering(rawValue: order) else {
                throw UsageError("--order must be fair-share or shortest-first", code: .malformedValue)
            }
            options.policy.ordering = ordering
        }
        if let placement = try? flags.string("placement") {
            guard let rule = SchedulingPolicy.Placement(rawValue: placement) else {
                throw UsageError("--placement must be best-fit or end-time", code: .malformedValue)
            }
            options.policy.placement = rule
        }
        let drain = try flags.int("drain-after", default: -1)
        if drain >= 0 { options.policy.drainAfter = drain > 0 ? drain : nil }
        let depth = try flags.int("reservations", default: 0)
        guard (0...16).contains(depth) else {
            throw UsageError("--reservations must be 1-16", code: .malformedValue)
        }
        if depth > 0 { options.policy.reservationDepth = depth }
        let outcome = ReplaySimulator(jobs: jobs, options: options).run()
        let metrics = ReplayMetrics(jobs: jobs, outcome: outcome, cluster: cluster)
        let label = try flags.string("label", default: "\(limits) limits")
        let sizes = metrics.maxWaitHoursByGPUs.keys.sorted()
            .map { "\($0) GPU: \(fixed(metrics.maxWaitHoursByGPUs[$0]!, 1)) h" }
            .joined(separator: ", ")
        return """
            replay of \(jobs.count) jobs from \(source) on \(cluster.nodes) nodes x \(cluster.gpusPerNode) GPUs
            \(ReplayMetrics.header)
            \(metrics.row(label: label))
            max wait by size: \(sizes)
            \(metrics.passes) scheduling passes in \(fixed(metrics.schedulingSeconds, 1)) s; \
            over-committed placements: \(metrics.overcommits)

            """
    }
}
