import ClusterWire
import CorralClient
import CorralSupport
import Dispatch
import Glibc
import Synchronization

/// `corral run`: submit, stream the job's output while it runs, exit with its exit code. Ctrl-C asks whether
/// to cancel the job (on a terminal); without a terminal it cancels it.
enum Runner {
    static func run(_ request: SubmitJobRequest, client: CorralClient) async throws -> Int32 {
        guard request.array == nil else {
            throw CLIError.usage("corral run streams one job: submit an array with corral submit --array")
        }
        let job = try await client.submit(request)
        FileHandleOutput.stderr("corral: job \(job.id) submitted; Ctrl-C to cancel it\n")
        let interrupts = InterruptWatch { await interrupted(job.id, client: client) }
        defer { interrupts.stop() }
        if job.nodes > 1 {
            // A gang's ranks, merged with a [rank N] prefix.
            var merged = GangLogs(id: job.id, ranks: job.nodes)
            try await merged.run(client: client, follow: true) { FileHandleOutput.stdoutBytes($0) }
        } else {
            _ = try await client.followLogs(job.id, notice: CLI.notice) { bytes in FileHandleOutput.stdoutBytes(bytes) }
        }
        let done = try await client.wait(for: job.id)
        if done.state != "SUCCEEDED" {
            FileHandleOutput.stderr("corral: job \(done.id) \(done.state)\(done.message.map { ": \($0)" } ?? "")\n")
        }
        return JobWaiting.exitCode(of: done)
    }

    static func interrupted(_ id: String, client: CorralClient) async {
        if Terminal.interactive {
            guard Terminal.confirm("\ncancel job \(id)?") else {
                FileHandleOutput.stderr("job \(id) keeps running: corral logs -f \(id)\n")
                exit(130)
            }
        }
        _ = try? await client.cancel(id)
        FileHandleOutput.stderr("canceled \(id)\n")
        exit(130)
    }
}

/// Calls `handler` on SIGINT while it lives.
final class InterruptWatch: Sendable {
    private let source: Mutex<(any DispatchSourceSignal)?>

    init(_ handler: @escaping @Sendable () async -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "corral.interrupt"))
        source.setEventHandler { Task { await handler() } }
        source.resume()
        self.source = Mutex(source)
    }

    func stop() {
        source.withLock { $0?.cancel() }
        signal(SIGINT, SIG_DFL)
    }
}
