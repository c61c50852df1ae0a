import Dispatch
import Glibc

/// A blocking TCP client for tests that need to send exact bytes and observe exactly what comes back.
/// Tests call its blocking reads through `offPool`, never on the cooperative pool.
///
/// `@unchecked Sendable`: test-only; each socket is used by one test, one call at a time.
final class RawSocket: @unchecked Sendable {
    let fd: Int32
    /// Received bytes not yet returned by `readResponse`.
    private var pending: [UInt8] = []

    init(port: Int, receiveTimeoutSeconds: Int = 15) throws {
        // Close-on-exec: tests that spawn curl or openssl must not hand these sockets to their children.
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw TestFailure("connect: errno \(code)")
        }
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Whether the peer has closed the connection, without waiting (a peek that does not consume data).
    func peerClosed() -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if count == 0 { return true }
        return count < 0 && (errno == ECONNRESET || errno == EPIPE)
    }

    /// Whether bytes are waiting to be read, without waiting or consuming them.
    func hasInput() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK)) > 0
    }

    /// Reads until the peer closes (or the receive timeout); `closed` tells which.
    func readToEnd() -> (bytes: [UInt8], closed: Bool) {
        var result = pending
        pending = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (result, true) }
            if count < 0 {
                if errno == EINTR { continue }
                return (result, errno == ECONNRESET)
            }
            result.append(contentsOf: buffer[0..<count])
        }
    }

    /// Reads exactly one response (head plus Content-Length body). Bytes past it (a pipelined response that
    /// arrived in the same read) are kept for the next call: dropping them made a test that reads two
    /// pipelined responses wait for a second one it had already thrown away, whenever the server was quick
    /// enough to send both before the first read.
    func readResponse() throws -> RawResponse {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let response = RawResponse.parse(pending) {
                pending.removeFirst(response.byteCount)
                return response
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                throw TestFailure("connection ended after \(pending.count) bytes without a full response")
            }
            pending.append(contentsOf: buffer[0..<count])
        }
    }
}

struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var byteCount: Int

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Parses one response from the front of `data`, or nil if incomplete.
    static func parse(_ data: [UInt8]) -> RawResponse? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard data.count >= 4, let end = (0...(data.count - 4)).first(where: { Array(data[$0..<($0 + 4)]) == marker })
        else { return nil }
        let head = String(decoding: data[0..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers.append((String(line[..<colon]), String(value)))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = end + 4
        guard data.count >= bodyStart + length else { return nil }
        return RawResponse(
            status: status,
            headers: headers,
            body: Array(data[bodyStart..<(bodyStart + length)]),
            byteCount: bodyStart + length
        )
    }

    /// Every response in `data`, in order.
    static func parseAll(_ data: [UInt8]) -> [RawResponse] {
        var rest = data
        var responses: [RawResponse] = []
        while let response = parse(rest) {
            responses.append(response)
            rest.removeFirst(response.byteCount)
        }
        return responses
    }
}

/// Runs blocking test I/O on a Dispatch thread so the cooperative pool stays free for the server's handlers.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue(label: "httpkit.tests.blocking").async {
            continuation.resume(with: Result { try body() })
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A listening TCP socket on 127.0.0.1 and an ephemeral port, for listeners that script a server's side.
func loopbackListener() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard fd >= 0, bound else {
        let code = errno
        if fd >= 0 { close(fd) }
        throw TestFailure("listener: errno \(code)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
