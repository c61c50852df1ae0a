import ClusterWire
import CorralClient
import CorralSupport

/// `corral logs [-f] [--tail N] JOB`: the job's output; `-f` follows it to the end, `--tail N` starts at the
/// last N lines.
struct LogsCommand: CorralCommand {
    var target: String
    var follow = false
    var tail: Int?

    static let usage = "usage: corral logs [-f] [--tail N] JOB"

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> LogsCommand {
        var follow = false
        var tail: Int?
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
            case .option: throw UsageError(usage)
            case .positional(let word): words.append(word)
            }
        }
        guard words.count == 1, !words[0].hasPrefix("-") else { throw UsageError(usage) }
        return LogsCommand(target: words[0], follow: follow, tail: tail)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let id = try await Targets.one(target, client: client).id
        if let tail {
            let last = try await client.tailLogs(id, lines: tail)
            FileHandleOutput.stdoutBytes(last.bytes)
            if follow {
                // Go on from the end of the tail, in the same attempt, so no byte is shown twice.
                _ = try await client.followLogs(id, from: last.size, attempt: last.attempt > 0 ? last.attempt : nil) {
                    bytes in FileHandleOutput.stdoutBytes(bytes)
                }
            }
        } else if follow {
            _ = try await client.followLogs(id) { bytes in FileHandleOutput.stdoutBytes(bytes) }
        } else {
            var offset = 0
            while true {
                let chunk = try await client.logs(id, offset: offset)
                FileHandleOutput.stdoutBytes(chunk.bytes)
                offset += chunk.bytes.count
                if chunk.bytes.isEmpty || offset >= chunk.size { break }
            }
        }
        return 0
    }
}
