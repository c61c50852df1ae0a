import ClusterWire
import CorralClient
import CorralSupport

/// A gang's logs merged, one log per rank: every line prefixed with its rank (`[rank 2] ...`), whole lines
/// only, in the order they are read (rank by rank for what is already stored; as they arrive when following).
struct GangLogs {
    let id: String
    let ranks: Int
    var offsets: [Int]
    var partial: [[UInt8]]
    var attempt: Int?

    init(id: String, ranks: Int) {
        self.id = id
        self.ranks = max(ranks, 1)
        offsets = Array(repeating: 0, count: self.ranks)
        partial = Array(repeating: [], count: self.ranks)
    }

    static let finished: Set<String> = ["SUCCEEDED", "FAILED", "LOST", "CANCELED"]

    /// Prints every rank's log so far; with `follow`, goes on until the job has ended and every log is read.
    mutating func run(client: CorralClient, follow: Bool, output: ([UInt8]) -> Void) async throws {
        while true {
            var progressed = false
            var state = ""
            var drained = true
            for rank in 0..<ranks {
                let chunk = try await client.logsWaitingOut(
                    id,
                    offset: offsets[rank],
                    attempt: attempt,
                    rank: rank,
                    notice: CLI.notice
                )
                if attempt == nil, chunk.attempt > 0 { attempt = chunk.attempt }
                state = chunk.jobState
                offsets[rank] += chunk.bytes.count
                if !chunk.bytes.isEmpty { progressed = true }
                if offsets[rank] < chunk.size { drained = false }
                output(take(chunk.bytes, rank: rank))
            }
            if progressed && !drained { continue }
            if !follow || (Self.finished.contains(state) && drained && !progressed) { break }
            if !progressed { try await Task.sleep(for: .milliseconds(500)) }
        }
        for rank in 0..<ranks where !partial[rank].isEmpty {
            output(Self.prefix(rank) + partial[rank] + [UInt8(ascii: "\n")])
            partial[rank] = []
        }
    }

    /// The whole lines `bytes` completes, each prefixed; the rest waits for its newline.
    mutating func take(_ bytes: [UInt8], rank: Int) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            partial[rank].append(byte)
            if byte == UInt8(ascii: "\n") {
                out += Self.prefix(rank) + partial[rank]
                partial[rank] = []
            }
        }
        return out
    }

    static func prefix(_ rank: Int) -> [UInt8] { Array("[rank \(rank)] ".utf8) }
}
