internal import Glibc

/// The outcome of a non-blocking call: it did something, or the kernel said EAGAIN/EWOULDBLOCK.
public enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

extension IOResult: Sendable where Value: Sendable {}

/// Every system call goes through these helpers (after swift-nio's `SystemCallHelpers.swift`): they retry
/// `EINTR`, report `EAGAIN` as a value where asked, and throw `POSIXCallError` otherwise.
public enum Syscall {
    /// Runs `body` until it does not fail with EINTR; a negative result throws.
    // Inlinable, so the reactor's reads and writes do not pay for a generic call across the package; errno is
    // read through `lastError`, since inlinable code cannot reach the internally imported Glibc.
    @inlinable
    public static func call<T: FixedWidthInteger>(
        _ function: StaticString,
        _ body: () -> T
    ) throws(POSIXCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = lastError()
            if code == interrupted { continue }
            throw POSIXCallError(function: "\(function)", errno: code)
        }
    }

    /// As `call`, but EAGAIN/EWOULDBLOCK come back as `.wouldBlock` (for non-blocking descriptors).
    @inlinable
    public static func nonBlocking<T: FixedWidthInteger>(
        _ function: StaticString,
        _ body: () -> T
    ) throws(POSIXCallError) -> IOResult<T> {
        while true {
            let result = body()
            if result >= 0 { return .processed(result) }
            let code = lastError()
            if code == interrupted { continue }
            if code == tryAgain || code == wouldBlock { return .wouldBlock }
            throw POSIXCallError(function: "\(function)", errno: code)
        }
    }

    /// `close(2)` without retrying: on Linux the descriptor is released even when close reports EINTR.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    @usableFromInline
    static func lastError() -> Int32 { errno }

    @usableFromInline static let interrupted = EINTR
    @usableFromInline static let tryAgain = EAGAIN
    @usableFromInline static let wouldBlock = EWOULDBLOCK
}
