import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport
import Glibc

/// `corral ls | ps [--all] [--state S,...] [--user U] [--queue Q] [--expand | --array ID] [--watch]`: a table
/// (saved as the listing that index targets refer to), JSON, or a view that refreshes every two seconds. A job
/// array is one line with its tasks' counts, unless `--expand` (every task) or `--array ID` (that array's).
struct ListCommand: CorralCommand {
    var all = false
    var states: [String] = []
    var user: String?
    var queue: String?
    var watch = false
    var expand = false
    var array: String?

    static let activeStates = ["QUEUED", "ALLOCATED", "STARTING", "RUNNING"]

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ListCommand {
        var command = ListCommand()
        while let argument = try arguments.next() {
            switch argument {
            case .option("--all"), .option("-a"): command.all = true
            case .option("--watch"), .option("-w"): command.watch = true
            case .option("--expand"): command.expand = true
            case .option("--array"): command.array = try arguments.value(for: "--array")
            case .option("--state"):
                for state in try arguments.value(for: "--state").split(separator: ",") {
                    guard JobState(rawValue: state.uppercased()) != nil else {
                        let known = JobState.allCases.map { $0.rawValue.lowercased() }.joined(separator: ", ")
                        throw UsageError("unknown state '\(state)': use one of \(known)")
                    }
                    command.states.append(state.uppercased())
                }
            case .option("--user"): command.user = try arguments.value(for: "--user")
            case .option("--queue"): command.queue = try arguments.value(for: "--queue")
            // ls takes no words either; both are refused the same way, as they always were.
            case .option(let other), .positional(let other): throw UsageError.unknownOption(other, for: "ls")
            }
        }
        return command
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let wanted = states.isEmpty && !all ? Self.activeStates : states
        repeat {
            let jobs = try await client.jobs(
                states: wanted,
                user: user,
                queue: queue,
                limit: 1000,
                collapseArrays: !expand && array == nil,
                array: array
            ).jobs
            if context.json {
                FileHandleOutput.stdout(WireJSON.encodePretty(jobs) + "\n")
                return 0
            }
            Targets.saveListing(jobs)
            var text =
                jobs.isEmpty && states.isEmpty && !all
                ? "no active jobs (corral ls --all shows finished ones too)\n"
                : Tables.jobs(jobs, now: SystemClock().now())
            if watch && FileHandleOutput.isTerminal(STDOUT_FILENO) {
                text = "\u{1B}[H\u{1B}[2J" + text + "\n(refreshing every 2 s; Ctrl-C to stop)\n"
            }
            FileHandleOutput.stdout(text)
            if watch { try await Task.sleep(for: .seconds(2)) }
        } while watch
        return 0
    }
}
