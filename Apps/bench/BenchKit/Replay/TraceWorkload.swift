import CorralSupport

/// One job of a replayed trace: when it arrives (seconds from the first arrival), how long it really runs,
/// and what it asks for on one node.
public struct TraceJob: Hashable, Sendable {
    public var id: String
    public var submit: Double
    public var duration: Double
    public var gpus: Int
    public var cpuMilli: Int
    public var memoryMiB: Int

    public init(id: String, submit: Double, duration: Double, gpus: Int, cpuMilli: Int, memoryMiB: Int) {
        self.id = id
        self.submit = submit
        self.duration = duration
        self.gpus = gpus
        self.cpuMilli = cpuMilli
        self.memoryMiB = memoryMiB
    }
}

/// The cluster a trace is replayed on: identical nodes.
public struct ReplayCluster: Hashable, Sendable {
    public var nodes = 16
    public var gpusPerNode = 8
    public var cpuMilliPerNode = 96_000
    public var memoryMiBPerNode = 393_216
    public init() {}
    public var gpus: Int { nodes * gpusPerNode }
}

/// Reading the prepared workloads (`shared/data/traces/replay/*.csv`), and preparing new ones from the raw
/// openb trace by the same rules (its README): never-scheduled rows skipped, no GPU sharing (a fraction of a
/// GPU is one whole GPU), jobs larger than a node dropped, the old long-running tasks moved to the start of the
/// dense window, durations capped at 24 h, arrivals compressed to an offered GPU load.
public enum TraceWorkload {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `job_id,submit_s,duration_s,num_gpus,cpu_milli,memory_mib`, header first.
    public static func readPrepared(_ path: String) throws -> [TraceJob] {
        let rows = try csv(path, columns: ["job_id", "submit_s", "duration_s", "num_gpus", "cpu_milli", "memory_mib"])
        return try rows.enumerated().map { line, fields in
            guard let submit = Double(fields[1]), let duration = Double(fields[2]), let gpus = Int(fields[3]),
                let cpu = Int(fields[4]), let memory = Int(fields[5]), submit >= 0, duration >= 0, gpus >= 0
            else { throw Failure(description: "\(path):\(line + 2): not a job row") }
            return TraceJob(
                id: fields[0],
                submit: submit,
                duration: duration,
                gpus: gpus,
                cpuMilli: cpu,
                memoryMiB: memory
            )
        }
        .sorted { ($0.submit, $0.id) < ($1.submit, $1.id) }
    }

    /// The raw trace prepared for `cluster` at `targetLoad`; also returns the compression factor.
    public static func prepare(
        raw path: String,
        cluster: ReplayCluster,
        targetLoad: Double
    ) throws -> (jobs: [TraceJob], factor: Double) {
        guard targetLoad > 0, targetLoad <= 10 else { throw Failure(description: "--target-load must be in (0, 10]") }
        let rows = try csv(
            path,
            columns: ["job_id", "submit_time_s", "duration_s", "num_gpus", "cpu_milli", "memory_mib"]
        )
        var jobs: [TraceJob] = []
        for fields in rows {
            // Never scheduled: no duration.
            guard let duration = Double(fields[2]), let submit = Double(fields[1]), let gpus = Int(fields[3]),
                let cpu = Int(fields[4]), let memory = Int(fields[5])
            else { continue }
            guard gpus <= cluster.gpusPerNode, cpu <= cluster.cpuMilliPerNode, memory <= cluster.memoryMiBPerNode else {
                continue
            }
            jobs.append(
                TraceJob(
                    id: fields[0],
                    submit: submit,
                    duration: min(duration, 86_400),
                    gpus: gpus,
                    cpuMilli: cpu,
                    memoryMiB: memory
                )
            )
        }
        guard !jobs.isEmpty else { throw Failure(description: "\(path): no scheduled job") }
        // The dense window starts on day 115; the few older tasks join its first arrival.
        let windowStart = 115.0 * 86_400
        let first = jobs.map(\.submit).filter { $0 >= windowStart }.min() ?? jobs.map(\.submit).min()!
        for index in jobs.indices where jobs[index].submit < first { jobs[index].submit = first }
        let last = jobs.map(\.submit).max()!
        let demand = jobs.reduce(0.0) { $0 + Double($1.gpus) * $1.duration }
        let span = last - first
        guard span > 0, demand > 0 else { throw Failure(description: "\(path): no arrival span or no GPU demand") }
        let factor = targetLoad * Double(cluster.gpus) * span / demand
        for index in jobs.indices { jobs[index].submit = (jobs[index].submit - first) / factor }
        return (jobs.sorted { ($0.submit, $0.id) < ($1.submit, $1.id) }, factor)
    }

    /// The rows of a CSV, each reduced to these columns in this order (found by the header's names).
    static func csv(_ path: String, columns: [String]) throws -> [[String]] {
        let text: String
        do {
            text = try Files.read(path, limit: 64 << 20)
        } catch {
            throw Failure(description: "\(error)")
        }
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
        let positions = columns.compactMap { header.firstIndex(of: $0) }
        guard positions.count == columns.count else {
            throw Failure(description: "\(path): the header must name \(columns.joined(separator: ","))")
        }
        lines.removeFirst()
        return lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count == header.count }
            .map { fields in positions.map { fields[$0] } }
    }
}
