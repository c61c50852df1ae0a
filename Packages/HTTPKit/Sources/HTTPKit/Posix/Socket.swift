internal import CLinuxShims
internal import Glibc
internal import LinuxSystem

/// Thin, typed wrappers over the BSD socket calls the reactor uses. Descriptors are plain `Int32`s owned by
/// whoever created them; nothing here closes a descriptor behind its owner's back.
enum Socket {
    /// Resolves `host` (an IP literal or a name) for a passive TCP socket.
    static func resolve(host: String, port: Int) throws(HTTPServerError) -> (sockaddr_storage, socklen_t) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw HTTPServerError(message: "cannot resolve listen address \(host):\(port): \(reason)")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        let length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length)))
        }
        return (storage, length)
    }

    /// socket + SO_REUSEADDR + bind + listen; non-blocking and close-on-exec from the start.
    static func listen(
        host: String,
        port: Int,
        backlog: Int32,
        reusePort: Bool = false
    ) throws(HTTPServerError) -> Int32 {
        var (address, length) = try resolve(host: host, port: port)
        let fd: Int32
        do {
            fd = try Syscall.call("socket") {
                socket(
                    Int32(address.ss_family),
                    Int32(SOCK_STREAM.rawValue) | CLINUX_SOCK_NONBLOCK | CLINUX_SOCK_CLOEXEC,
                    0
                )
            }
        } catch {
            throw HTTPServerError(message: "cannot listen on \(host):\(port): \(error.message)", cause: error)
        }
        do {
            var one: Int32 = 1
            _ = try Syscall.call("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if reusePort {
                // Several event loops, one listener each on the same port; the kernel balances them.
                // SO_REUSEPORT is 15 on Linux (asm-generic/socket.h); Glibc does not export the name.
                let reusePortOption: Int32 = 15
                _ = try Syscall.call("setsockopt(SO_REUSEPORT)") {
                    setsockopt(fd, SOL_SOCKET, reusePortOption, &one, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            _ = try Syscall.call("bind") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
                }
            }
            _ = try Syscall.call("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Syscall.close(fd)
            throw HTTPServerError(message: "cannot listen on \(host):\(port): \(error.message)", cause: error)
        }
        return fd
    }

    /// The local port a socket is bound to (`getsockname`).
    static func localPort(_ fd: Int32) throws(POSIXCallError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try Syscall.call("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return describe(storage).port
    }

    /// accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; returns the new descriptor and the peer as "ip:port".
    static func accept(_ listener: Int32) throws(POSIXCallError) -> IOResult<(fd: Int32, peer: String)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try Syscall.nonBlocking("accept4") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    clinux_accept4(listener, $0, &length, CLINUX_SOCK_NONBLOCK | CLINUX_SOCK_CLOEXEC)
                }
            }
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed(let fd): return .processed((fd, describe(storage).text))
        }
    }

    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(POSIXCallError) -> IOResult<Int> {
        try Syscall.nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `send` with MSG_NOSIGNAL, so a peer that went away yields EPIPE instead of SIGPIPE.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(POSIXCallError) -> IOResult<Int> {
        try Syscall.nonBlocking("send") { send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// "a.b.c.d:port" or "[v6]:port".
    static func describe(_ storage: sockaddr_storage) -> (text: String, port: Int) {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                    let port = Int(UInt16(bigEndian: sin.pointee.sin_port))
                    return ("\(cString(text)):\(port)", port)
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                    let port = Int(UInt16(bigEndian: sin6.pointee.sin6_port))
                    return ("[\(cString(text))]:\(port)", port)
                }
            }
        default:
            return ("unknown", 0)
        }
    }

    private static func cString(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
