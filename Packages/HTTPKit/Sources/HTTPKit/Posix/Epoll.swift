internal import CLinuxShims
internal import Glibc
internal import LinuxSystem

/// Typed access to epoll and eventfd (through CLinuxShims, since Glibc does not expose them).
enum Epoll {
    static let readable = CLINUX_EPOLLIN
    static let writable = CLINUX_EPOLLOUT
    static let error = CLINUX_EPOLLERR
    static let hangup = CLINUX_EPOLLHUP
    static let readHangup = CLINUX_EPOLLRDHUP

    static func create() throws(POSIXCallError) -> Int32 {
        try Syscall.call("epoll_create1") { clinux_epoll_create1(CLINUX_EPOLL_CLOEXEC) }
    }

    static func add(_ epfd: Int32, fd: Int32, events: UInt32, token: UInt64) throws(POSIXCallError) {
        _ = try Syscall.call("epoll_ctl(ADD)") { clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_ADD, fd, events, token) }
    }

    static func modify(_ epfd: Int32, fd: Int32, events: UInt32, token: UInt64) throws(POSIXCallError) {
        _ = try Syscall.call("epoll_ctl(MOD)") { clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_MOD, fd, events, token) }
    }

    static func remove(_ epfd: Int32, fd: Int32) {
        _ = clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever); fills the two arrays, returns how many events came.
    static func wait(
        _ epfd: Int32,
        events: inout [UInt32],
        tokens: inout [UInt64],
        timeoutMilliseconds: Int32
    ) throws(POSIXCallError) -> Int {
        let capacity = Int32(min(events.count, tokens.count))
        let result = events.withUnsafeMutableBufferPointer { eventBuffer in
            tokens.withUnsafeMutableBufferPointer { tokenBuffer in
                clinux_epoll_wait(epfd, eventBuffer.baseAddress, tokenBuffer.baseAddress, capacity, timeoutMilliseconds)
            }
        }
        if result < 0 {
            let code = errno
            if code == EINTR { return 0 }  // the caller loops anyway; recompute the timeout
            throw POSIXCallError(function: "epoll_wait", errno: code)
        }
        return Int(result)
    }
}

/// An eventfd used to wake the reactor from other threads.
enum EventFD {
    static func create() throws(POSIXCallError) -> Int32 {
        try Syscall.call("eventfd") { clinux_eventfd(0, CLINUX_EFD_CLOEXEC | CLINUX_EFD_NONBLOCK) }
    }

    /// Adds one to the counter. EAGAIN (counter saturated) still leaves it readable, so it is ignored.
    static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = try? Syscall.nonBlocking("write(eventfd)") { Glibc.write(fd, &one, 8) }
    }

    /// Resets the counter to zero.
    static func drain(_ fd: Int32) {
        var value: UInt64 = 0
        _ = try? Syscall.nonBlocking("read(eventfd)") { Glibc.read(fd, &value, 8) }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at Int64's range.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// Whole milliseconds, rounded up, at least 1 for positive durations (curl treats 0 as "no timeout").
    var millisecondsRoundedUp: Int {
        let nanos = nanosecondsClamped
        if nanos <= 0 { return 0 }
        return Int((nanos + 999_999) / 1_000_000)
    }
}
