import ClusterWire
import CorralClient
import CorralSupport

/// `corral run [submit options] -- COMMAND`: submit, stream the job's output, exit with its exit code.
struct RunCommand: CorralCommand {
    var request: SubmitJobRequest
    var options = SubmitOptions()

    static var takesFreeFormArguments: Bool { true }
    /// `run` takes submit's flags, so its help is submit's.
    static var helpTopic: String? { "submit" }

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> RunCommand {
        var options = SubmitOptions()
        // It streams the job's output to this terminal, so it never asks for the job on it.
        let request = try JobFlags.read(&arguments, options: &options, askable: false)
        return RunCommand(request: request, options: options)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let request = context.withDefaultNotify(try JobFlags.request(request, options: options))
        return try await Runner.run(request, client: client)
    }
}
