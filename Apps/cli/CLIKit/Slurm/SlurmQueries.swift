import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport

/// squeue, sacct and sinfo: read jobs and nodes through the API, print them as Slurm does (`SlurmReports`,
/// `SlurmAccounting`).
enum SlurmQueries {
    static let active = ["QUEUED", "ALLOCATED", "STARTING", "RUNNING"]

    /// Every page of a listing (at most 100,000 jobs).
    static func all(
        _ client: CorralClient,
        page: (String?) async throws -> JobListResponse
    ) async throws -> [JobView] {
        var jobs: [JobView] = []
        var cursor: String?
        repeat {
            let response = try await page(cursor)
            jobs += response.jobs
            cursor = response.nextCursor
        } while cursor != nil && jobs.count < 100_000
        return jobs
    }

    /// The jobs in these states (of this user, when given) that `-p QUEUE` and `-n NAME` select, newest first.
    static func listing(
        _ client: CorralClient,
        states: [String],
        user: String?,
        flags: SlurmFlags
    ) async throws -> [JobView] {
        try await all(client) { cursor in
            try await client.jobs(
                states: states,
                user: user,
                queue: flags.value("partition"),
                name: flags.value("name"),
                limit: 1000,
                cursor: cursor
            )
        }
    }

    static func states(_ text: String?, default fallback: [String]) throws(SlurmError) -> [String] {
        guard let text else { return fallback }
        guard let states = SlurmReports.corralStates(text) else {
            throw SlurmError("invalid job state in '\(text.prefix(64))'")
        }
        return states
    }

    /// The jobs `-j` names (an array id: its tasks), oldest first, or nil when no `-j` was given.
    static func named(_ ids: [String], client: CorralClient) async throws -> [JobView]? {
        guard !ids.isEmpty else { return nil }
        var jobs: [JobView] = []
        for text in ids {
            guard let id = SlurmJobID.corralID(text) else { throw SlurmError("invalid job id \(text.prefix(64))") }
            let job = try await client.job(id)
            if let summary = job.arraySummary, summary.arrayId == id {
                jobs += try await all(client) { cursor in try await client.jobs(limit: 1000, cursor: cursor, array: id)
                }
                .sorted { ($0.array?.index ?? 0) < ($1.array?.index ?? 0) }
            } else {
                jobs.append(job)
            }
        }
        return jobs
    }

    static func squeue(_ arguments: [String], context: CommandContext) async throws -> Int32 {
        let flags = try SlurmFlags(
            arguments,
            specs: [
                .init("user", "u", value: true), .init("me"), .init("jobs", "j", value: true),
                .init("noheader", "h"), .init("states", "t", value: true), .init("format", "o", value: true),
                .init("partition", "p", value: true), .init("name", "n", value: true), .init("all", "a"),
                .init("array", "r"), .init("long", "l"), .init("clusters", "M", value: true),
            ]
        )
        guard flags.words.isEmpty else { throw SlurmError("unexpected '\(flags.words[0].prefix(64))'") }
        let client = try context.client()
        let states = try Self.states(flags.value("states"), default: active)
        var user = flags.value("user")
        if flags.has("me") { user = try await client.whoami().user }
        var jobs: [JobView]
        if let named = try await named(flags.list("jobs"), client: client) {
            jobs = named.filter { states.contains($0.state) }
        } else {
            jobs = try await listing(client, states: states, user: user, flags: flags)
            jobs.reverse()
        }
        let long = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
        let format = flags.value("format") ?? (flags.has("long") ? long : SlurmReports.defaultSqueueFormat)
        FileHandleOutput.stdout(
            try SlurmReports.squeue(jobs, format: format, header: !flags.has("noheader"), now: SystemClock().now())
        )
        return 0
    }

    static func sacct(_ arguments: [String], context: CommandContext) async throws -> Int32 {
        let flags = try SlurmFlags(
            arguments,
            specs: [
                .init("jobs", "j", value: true), .init("allocations", "X"), .init("noheader", "n"),
                .init("parsable2", "P"), .init("parsable", "p"), .init("format", "o", value: true),
                .init("user", "u", value: true), .init("allusers", "a"), .init("state", "s", value: true),
                .init("starttime", "S", value: true), .init("endtime", "E", value: true),
                .init("name", value: true), .init("brief", "b"), .init("partition", "r", value: true),
                .init("clusters", "M", value: true),
            ]
        )
        guard flags.words.isEmpty else { throw SlurmError("unexpected '\(flags.words[0].prefix(64))'") }
        let client = try context.client()
        let states = try Self.states(flags.value("state"), default: [])
        var jobs: [JobView]
        if let named = try await named(flags.list("jobs"), client: client) {
            jobs = named.filter { states.isEmpty || states.contains($0.state) }
        } else {
            var user = flags.value("user")
            if user == nil && !flags.has("allusers") { user = try await client.whoami().user }
            jobs = try await listing(client, states: states, user: user, flags: flags)
            jobs.reverse()
        }
        let layout: SlurmAccounting.Layout =
            flags.has("parsable2") ? .parsable2 : flags.has("parsable") ? .parsable : .columns
        let fields =
            flags.value("format") ?? (flags.has("brief") ? "JobID,State,ExitCode" : SlurmAccounting.defaultFields)
        FileHandleOutput.stdout(
            try SlurmAccounting.report(
                jobs,
                fields: fields,
                layout: layout,
                header: !flags.has("noheader"),
                now: SystemClock().now()
            )
        )
        return 0
    }

    static func sinfo(_ arguments: [String], context: CommandContext) async throws -> Int32 {
        let flags = try SlurmFlags(
            arguments,
            specs: [
                .init("Node", "N"), .init("noheader", "h"), .init("partition", "p", value: true), .init("long", "l"),
                .init("format", "o", value: true), .init("clusters", "M", value: true),
            ]
        )
        guard flags.words.isEmpty else { throw SlurmError("unexpected '\(flags.words[0].prefix(64))'") }
        let client = try context.client()
        let nodes = try await client.nodes().nodes
        var queues = try await client.queues().queues
        if let only = flags.value("partition") { queues = queues.filter { $0.name == only } }
        FileHandleOutput.stdout(
            try SlurmReports.sinfo(
                queues: queues,
                nodes: nodes,
                byNode: flags.has("Node"),
                header: !flags.has("noheader"),
                format: flags.value("format")
            )
        )
        return 0
    }
}
