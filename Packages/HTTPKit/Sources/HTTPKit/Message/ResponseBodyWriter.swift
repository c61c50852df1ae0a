import Synchronization

/// Thrown by `ResponseBodyWriter.write` once the client has gone (or the server closed the connection):
/// the producer should stop.
public struct ResponseStreamClosedError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the client connection of this streamed response is closed" }
}

/// Writes the body of a streamed response (`HTTPResponse.stream`). Each `write` becomes one chunk of a
/// chunked response (raw bytes for an HTTP/1.0 client, closed at the end). Back-pressure: bytes handed to
/// the server but not yet taken by the socket are bounded; beyond `bufferLimit` a `write` suspends until the
/// client reads. When the client goes away, a suspended or later `write` throws `ResponseStreamClosedError`
/// and the producer's task is cancelled.
///
/// Thread-safe: its only mutable state is behind a `Mutex`; the socket is touched only on the reactor thread.
public final class ResponseBodyWriter: Sendable {
    private struct State {
        /// Bytes submitted to the reactor and not yet written to the socket.
        var outstanding = 0
        var waiter: CheckedContinuation<Void, any Error>?
        var closed = false
    }

    /// Unwritten bytes beyond which `write` suspends.
    public let bufferLimit: Int
    let reactor: Reactor
    let connectionID: UInt64
    let chunked: Bool
    private let state = Mutex(State())

    init(reactor: Reactor, connectionID: UInt64, chunked: Bool, bufferLimit: Int = 64 * 1024) {
        self.reactor = reactor
        self.connectionID = connectionID
        self.chunked = chunked
        self.bufferLimit = bufferLimit
    }

    /// Sends `bytes` (nothing for an empty array); suspends while the client is `bufferLimit` behind.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try Task.checkCancellation()
        var frame: [UInt8] = []
        if chunked {
            frame.reserveCapacity(bytes.count + 20)
            frame.append(contentsOf: String(bytes.count, radix: 16).utf8)
            frame.append(contentsOf: [.cr, .lf])
            frame.append(contentsOf: bytes)
            frame.append(contentsOf: [.cr, .lf])
        } else {
            frame = bytes
        }
        let mustWait = try state.withLock { state throws(ResponseStreamClosedError) -> Bool in
            guard !state.closed else { throw ResponseStreamClosedError() }
            state.outstanding += frame.count
            return state.outstanding > bufferLimit
        }
        let accepted = reactor.submit { [frame] loop in loop.streamData(frame, from: self) }
        guard accepted else {
            close()
            throw ResponseStreamClosedError()
        }
        if mustWait { try await waitForRoom() }
    }

    /// Sends UTF-8 text.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    private func waitForRoom() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let verdict: Bool? = state.withLock { state in
                    if state.closed { return false }
                    if state.outstanding <= bufferLimit { return true }
                    state.waiter = continuation
                    return nil
                }
                switch verdict {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: ResponseStreamClosedError())
                case nil: break
                }
            }
        } onCancel: {
            close()
        }
    }

    /// The socket took `count` of the outstanding bytes (reactor thread).
    func acknowledge(_ count: Int) {
        let waiter: CheckedContinuation<Void, any Error>? = state.withLock { state in
            state.outstanding -= count
            guard state.outstanding <= bufferLimit / 2 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The connection is gone or the stream ended: later writes throw, a suspended one resumes throwing.
    func close() {
        let waiter: CheckedContinuation<Void, any Error>? = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: ResponseStreamClosedError())
    }
}
