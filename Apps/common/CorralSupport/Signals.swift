import Dispatch
import Glibc

/// Turns SIGTERM and SIGINT into an async wait, for graceful shutdown of the daemons.
public enum Signals {
    /// Returns when the process receives one of `signals` (default SIGTERM, SIGINT).
    public static func wait(for signals: [Int32] = [15, 2]) async -> Int32 {
        let stream = AsyncStream<Int32> { continuation in
            let queue = DispatchQueue(label: "corral.signals")
            var sources: [any DispatchSourceSignal] = []
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                sources.append(source)
            }
            let keep = SourceBox(sources)
            continuation.onTermination = { _ in keep.cancel() }
        }
        for await number in stream { return number }
        return SIGTERM
    }

    public static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }
}

/// Holds the dispatch sources alive for as long as the stream exists.
/// `@unchecked Sendable`: the array is written once, in init, and only read (to cancel) afterwards.
private final class SourceBox: @unchecked Sendable {
    let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { for source in sources { source.cancel() } }
}
