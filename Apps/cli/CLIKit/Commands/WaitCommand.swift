import ClusterWire
import CorralClient
import CorralSupport

/// `corral wait TARGET...`: waits for the jobs to end; exits with the job's exit code (one job) or 0 when all
/// succeeded.
struct WaitCommand: CorralCommand {
    var targets: [String]

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> WaitCommand {
        let words = arguments.rest()
        guard !words.isEmpty, words.allSatisfy({ !$0.hasPrefix("-") }) else {
            throw UsageError("usage: corral wait TARGET...")
        }
        return WaitCommand(targets: words)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let jobs = try await Targets.resolve(targets, client: client)
        return try await JobWaiting.wait(for: jobs, client: client, json: context.json)
    }
}
