import ClusterWire
import CorralClient
import CorralSupport

/// `corral hold|release|requeue TARGET...`: a held job waits (reason Held) until released; a requeued job is
/// stopped and goes back to the queue, its retries untouched (`--hold`: held there). An array's id acts on
/// each of its tasks the request fits.
struct HoldCommand: CorralCommand {
    var targets: [String]

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> HoldCommand {
        HoldCommand(targets: try JobControl.targets(&arguments, usage: "usage: corral hold TARGET..."))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        try await JobControl.run("hold", targets, context) { "held \($0.id): it waits (reason Held) until released\n" }
    }
}

struct ReleaseCommand: CorralCommand {
    var targets: [String]

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ReleaseCommand {
        ReleaseCommand(targets: try JobControl.targets(&arguments, usage: "usage: corral release TARGET..."))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        try await JobControl.run("release", targets, context) { "released \($0.id)\n" }
    }
}

struct RequeueCommand: CorralCommand {
    var targets: [String]
    var hold = false

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> RequeueCommand {
        let usage = "usage: corral requeue [--hold] TARGET..."
        var hold = false
        var words: [String] = []
        while let argument = try arguments.next() {
            switch argument {
            case .option("--hold"): hold = true
            case .positional(let word) where !word.hasPrefix("-"): words.append(word)
            case .option, .positional: throw UsageError(usage)
            }
        }
        guard !words.isEmpty else { throw UsageError(usage) }
        return RequeueCommand(targets: words, hold: hold)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        try await JobControl.run("requeue", targets, context, hold: hold) { job in
            job.state == "QUEUED"
                ? "requeued \(job.id)\(job.hold == nil ? "" : " (held)")\n"
                : "requeueing \(job.id): stopping its processes (QUEUED once they are gone)\n"
        }
    }
}

/// The shared part: resolve the targets, act on each, report each refusal without stopping the others.
enum JobControl {
    static func targets(_ arguments: inout ArgumentReader, usage: String) throws(UsageError) -> [String] {
        var words: [String] = []
        while let argument = try arguments.next() {
            guard case .positional(let word) = argument, !word.hasPrefix("-") else { throw UsageError(usage) }
            words.append(word)
        }
        guard !words.isEmpty else { throw UsageError(usage) }
        return words
    }

    /// `action` through `POST /v1/jobs/{id}/ACTION` (requeue with `hold`).
    static func run(
        _ action: String,
        _ targets: [String],
        _ context: CommandContext,
        hold: Bool = false,
        describe: (JobView) -> String
    ) async throws -> Int32 {
        try await each(
            targets,
            context,
            one: { client, id throws(CorralError) in try await client.control(id, action, hold: hold) },
            array: { client, id throws(CorralError) in
                try await client.control(id, action, hold: hold, as: ArrayControlResponse.self)
            },
            describe: describe
        )
    }

    /// For each job the targets name (an array as one, through `array`): act, print, and report a refusal
    /// without stopping the others; exit 1 if any was refused.
    static func each(
        _ targets: [String],
        _ context: CommandContext,
        one: (CorralClient, String) async throws(CorralError) -> JobView,
        array: (CorralClient, String) async throws(CorralError) -> ArrayControlResponse,
        describe: (JobView) -> String
    ) async throws -> Int32 {
        let client = try context.client()
        var results: [JobView] = []
        var failed = false
        for job in try await Targets.resolve(targets, client: client) {
            do {
                if let summary = job.arraySummary {
                    let done = try await array(client, summary.arrayId)
                    if !context.json { FileHandleOutput.stdout(describeArray(done)) }
                    continue
                }
                let done = try await one(client, job.id)
                results.append(done)
                if !context.json { FileHandleOutput.stdout(describe(done)) }
            } catch {
                failed = true
                CLI.report(
                    CLIError.failure("\(job.id): \(CLI.advice(for: error))", code: error.code ?? "error"),
                    json: context.json
                )
            }
        }
        if context.json { FileHandleOutput.stdout(WireJSON.encodePretty(results) + "\n") }
        return failed ? 1 : 0
    }

    static func describeArray(_ done: ArrayControlResponse) -> String {
        let skipped = done.skipped > 0 ? " (\(done.skipped) skipped: finished, or not in a state it applies to)" : ""
        return "\(done.action) array \(done.arrayId): \(done.changed) task(s)\(skipped)\n"
    }
}

/// `corral update TARGET... [--time-limit T] [--priority N]`: users may lower a time limit and set a priority
/// up to their queue's max_priority (or lower it); admins may change anything.
struct UpdateCommand: CorralCommand {
    var targets: [String]
    var request = JobUpdateRequest()

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> UpdateCommand {
        let usage = UsageError("usage: corral update TARGET... [--time-limit T] [--priority N]")
        var command = UpdateCommand(targets: [])
        while let argument = try arguments.next() {
            switch argument {
            case .option("--time-limit"), .option("-t"):
                command.request.timeLimit = try arguments.seconds(for: "--time-limit")
            case .option("--priority"): command.request.priority = try arguments.integer(for: "--priority")
            case .positional(let word) where !word.hasPrefix("-"): command.targets.append(word)
            case .option, .positional: throw usage
            }
        }
        guard !command.targets.isEmpty, command.request.timeLimit != nil || command.request.priority != nil else {
            throw usage
        }
        return command
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        try await JobControl.each(
            targets,
            context,
            one: { client, id throws(CorralError) in try await client.update(id, request) },
            array: { client, id throws(CorralError) in
                try await client.update(id, request, as: ArrayControlResponse.self)
            },
            describe: { done in
                let limit = done.timeLimit.map { "time limit \(Tables.duration(.seconds($0)))" } ?? "no time limit"
                return "updated \(done.id): \(limit), priority \(done.priority)\n"
            }
        )
    }
}
