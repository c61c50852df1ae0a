import ClusterWire
import CorralClient
import CorralSupport

/// `corral cancel TARGET... [--yes]`: several jobs (or `all`) need a confirmation, on a terminal or by --yes.
struct CancelCommand: CorralCommand {
    var targets: [String]
    var yes = false

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> CancelCommand {
        let usage = UsageError("usage: corral cancel TARGET... [--yes]  (an id, a name, 1,3,5, 2-4 or all)")
        var command = CancelCommand(targets: [])
        while let argument = try arguments.next() {
            switch argument {
            case .option("--yes"), .option("-y"): command.yes = true
            case .positional(let word) where !word.hasPrefix("-"): command.targets.append(word)
            case .option, .positional: throw usage
            }
        }
        guard !command.targets.isEmpty else { throw usage }
        return command
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let jobs = try await Targets.resolve(targets, client: client)
        guard !jobs.isEmpty else {
            FileHandleOutput.stderr("corral: nothing to cancel\n")
            return 0
        }
        if jobs.count > 1 || targets == ["all"], !yes {
            guard Terminal.interactive else {
                throw CLIError.usage("cancel \(jobs.count) jobs? add --yes to confirm when not on a terminal")
            }
            let shown = jobs.prefix(5).map(\.id).joined(separator: ", ") + (jobs.count > 5 ? ", ..." : "")
            guard Terminal.confirm("Cancel \(jobs.count) jobs (\(shown))?") else { return 1 }
        }
        var failed = false
        var canceled: [JobView] = []
        for job in jobs {
            do {
                if let array = job.arraySummary {
                    let done = try await client.cancelArray(array.arrayId)
                    if !context.json {
                        let rest = done.alreadyFinished > 0 ? " (\(done.alreadyFinished) had already ended)" : ""
                        FileHandleOutput.stdout("canceling array \(done.arrayId): \(done.canceled) task(s)\(rest)\n")
                    }
                    continue
                }
                let done = try await client.cancel(job.id)
                canceled.append(done)
                if !context.json {
                    // A job that may be running ends CANCELED only once its processes are gone.
                    FileHandleOutput.stdout(
                        done.state == "CANCELED"
                            ? "canceled \(done.id)\n"
                            : "canceling \(done.id): stopping its processes (CANCELED once they are gone)\n"
                    )
                }
            } catch {
                // One refusal does not stop the others; the exit code says something failed.
                failed = true
                CLI.report(
                    CLIError.failure("\(job.id): \(CLI.advice(for: error))", code: error.code ?? "error"),
                    json: context.json
                )
            }
        }
        if context.json { FileHandleOutput.stdout(WireJSON.encodePretty(canceled) + "\n") }
        return failed ? 1 : 0
    }
}
