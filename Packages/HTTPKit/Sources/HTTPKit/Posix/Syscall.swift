internal import Glibc

/// The outcome of a non-blocking call: it did something, or the kernel said EAGAIN/EWOULDBLOCK.
enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

extension IOResult: Sendable where Value: Sendable {}

/// Every system call of HTTPKit goes through these helpers (after swift-nio's `SystemCallHelpers.swift`):
/// they retry `EINTR`, report `EAGAIN` as a value where asked, and throw `POSIXCallError` otherwise.
enum Syscall {
    /// Runs `body` until it does not fail with EINTR; a negative result throws.
    @inline(__always)
    static func call<T: FixedWidthInteger>(
        _ function: StaticString,
        _ body: () -> T
    ) throws(POSIXCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw POSIXCallError(function: "\(function)", errno: code)
        }
    }

    /// As `call`, but EAGAIN/EWOULDBLOCK come back as `.wouldBlock` (for non-blocking descriptors).
    @inline(__always)
    static func nonBlocking<T: FixedWidthInteger>(
        _ function: StaticString,
        _ body: () -> T
    ) throws(POSIXCallError) -> IOResult<T> {
        while true {
            let result = body()
            if result >= 0 { return .processed(result) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw POSIXCallError(function: "\(function)", errno: code)
        }
    }

    /// `close(2)` without retrying: on Linux the descriptor is released even when close reports EINTR.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
