import ClusterWire
import CorralClient
import CorralSupport

/// `corral logs [-f] [--tail N] [--rank N] JOB`: the job's output; `-f` follows it to the end, `--tail N` starts
/// at the last N lines. A gang's ranks are merged, each line prefixed `[rank N]`; `--rank N` shows one rank's;
/// `--attempt N` an earlier attempt's (the current one by default).
struct LogsCommand: CorralCommand {
    var target: String
    var follow = false
    var tail: Int?
    var rank: Int?
    var attempt: Int?

    static let usage = "usage: corral logs [-f] [--tail N] [--rank N] [--attempt N] JOB"

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> LogsCommand {
        var follow = false
        var tail: Int?
        var rank: Int?
        var attempt: Int?
        var words: [String] = []
        while let argument = try arguments.next() {
            switch argument {
            case .option("-f"), .option("--follow"): follow = true
            case .option(let flag) where flag == "--tail" || flag == "-n":
                // A missing value is refused like a bad one: both show the range and the usage.
                guard let lines = try? arguments.integer(for: flag, in: 0...1_000_000) else {
                    throw UsageError("--tail takes a number of lines from 0 to 1000000\n\(usage)")
                }
                tail = lines
            case .option("--rank"):
                guard let number = try? arguments.integer(for: "--rank", in: 0...100_000) else {
                    throw UsageError("--rank takes a rank number, 0 for the first\n\(usage)")
                }
                rank = number
            case .option("--attempt"):
                guard let number = try? arguments.integer(for: "--attempt", in: 1...1_000_000) else {
                    throw UsageError(
                        "--attempt takes an attempt number, 1 for the first (corral show lists them)\n\(usage)"
                    )
                }
                attempt = number
            case .option: throw UsageError(usage)
            case .positional(let word): words.append(word)
            }
        }
        guard words.count == 1, !words[0].hasPrefix("-") else { throw UsageError(usage) }
        if tail != nil && attempt != nil {
            throw UsageError("--tail reads the current attempt; drop --attempt\n\(usage)")
        }
        return LogsCommand(target: words[0], follow: follow, tail: tail, rank: rank, attempt: attempt)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let job = try await Targets.one(target, client: client)
        let id = job.id
        if job.nodes > 1, rank == nil, tail == nil {
            var merged = GangLogs(id: id, ranks: job.nodes)
            merged.attempt = attempt
            try await merged.run(client: client, follow: follow) { FileHandleOutput.stdoutBytes($0) }
            return 0
        }
        if let rank, rank >= max(job.nodes, 1) {
            throw CLIError.usage("job \(id) has \(job.nodes) rank(s): --rank goes from 0 to \(job.nodes - 1)")
        }
        if let tail {
            let last = try await client.tailLogs(id, lines: tail, rank: rank)
            FileHandleOutput.stdoutBytes(last.bytes)
            if follow {
                // Go on from the end of the tail, in the same attempt, so no byte is shown twice.
                let attempt = last.attempt > 0 ? last.attempt : nil
                _ = try await client.followLogs(id, from: last.size, attempt: attempt, rank: rank, notice: CLI.notice) {
                    bytes in
                    FileHandleOutput.stdoutBytes(bytes)
                }
            }
        } else if follow {
            _ = try await client.followLogs(id, attempt: attempt, rank: rank, notice: CLI.notice) { bytes in
                FileHandleOutput.stdoutBytes(bytes)
            }
        } else {
            var offset = 0
            while true {
                let chunk = try await client.logs(id, offset: offset, attempt: attempt, rank: rank)
                FileHandleOutput.stdoutBytes(chunk.bytes)
                offset += chunk.bytes.count
                if chunk.bytes.isEmpty || offset >= chunk.size { break }
            }
        }
        return 0
    }
}
