import ClusterWire
import CorralClient
import CorralSupport
import FoundationEssentials

/// `corral exec JOB [--rank N] -- COMMAND [ARGS...]`: runs a command in a running job's context on its node
/// (its user, cgroup, GPUs, environment and working directory), streams its output and exits with its exit
/// code (128 + N when a signal N ended it). Stdin is not forwarded.
struct ExecCommand: CorralCommand {
    var job: String
    var rank: Int?
    var command: [String]

    static var takesFreeFormArguments: Bool { true }
    static let usage = UsageError("usage: corral exec JOB [--rank N] -- COMMAND [ARGS...]")

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ExecCommand {
        var job: String?
        var rank: Int?
        while let argument = try arguments.next() {
            switch argument {
            case .option("--help"), .option("-h"): throw UsageError.helpRequested
            case .option("--rank"): rank = try arguments.integer(for: "--rank", in: 0...65535)
            case .option("-t"), .option("--tty"), .option("-i"):
                throw UsageError("corral exec runs commands without a terminal or stdin for now; drop -t/-i")
            case .option(let flag): throw UsageError.unknownOption(flag, for: "exec")
            case .positional(let word) where job == nil: job = word
            case .positional(let word):
                let command = [word] + arguments.rest()
                guard let job else { throw usage }
                return ExecCommand(job: job, rank: rank, command: command)
            }
        }
        throw usage
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let session = try await client.exec(job, command: command, rank: rank)
        var offset = 0
        while true {
            let output = try await client.execOutput(session.id, offset: offset)
            if let bytes = Data(base64Encoded: output.data), !bytes.isEmpty {
                FileHandleOutput.stdoutBytes([UInt8](bytes))
            }
            offset = output.offset
            guard output.done else { continue }
            if let error = output.error {
                FileHandleOutput.stderr("corral: exec in job \(session.job) on \(session.node): \(error)\n")
                return 1
            }
            if let signal = output.signal { return 128 + signal }
            return output.exitCode ?? 1
        }
    }
}
