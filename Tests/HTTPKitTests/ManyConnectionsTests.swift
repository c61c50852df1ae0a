import Glibc
import Testing

@testable import HTTPKit

/// Thousands of idle keep-alive connections cost descriptors and memory, not threads.
@Suite(.serialized) struct ManyConnectionsTests {
    @Test func fiveThousandIdleKeepAliveConnections() async throws {
        let count = 5000
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        // Both ends live in this process: 2 descriptors per connection, plus the rest of the test run.
        limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, rlim_t(2 * count + 4096)))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_cur >= rlim_t(2 * count + 1024), "RLIMIT_NOFILE hard limit \(limit.rlim_max) too low")

        try await withTestServer(testRouter()) { server in
            let before = threadCount(named: "http")
            let port = server.port
            // Each connection makes one request and stays open, idle, kept alive.
            let sockets = try await offPool {
                var sockets: [RawSocket] = []
                sockets.reserveCapacity(count)
                for _ in 0..<count {
                    let socket = try RawSocket(port: port, receiveTimeoutSeconds: 30)
                    socket.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    sockets.append(socket)
                }
                for socket in sockets {
                    guard try socket.readResponse().status == 200 else { throw TestFailure("bad response") }
                }
                return sockets
            }
            #expect(sockets.count == count)
            let during = threadCount(named: "http")
            let response = try await client(for: server).execute(.get, "/hello")
            #expect(response.status == 200 && text(response.body) == "hello")
            // Bounded, not per connection: the servers' threads (other suites run servers concurrently, so the
            // margin is wide: the point is tens, not thousands).
            #expect(
                during < before + 50 && during < count / 20,
                "threads: \(before) before, \(during) with \(count) connections"
            )
            // The oldest and the newest idle connection still serve their next request.
            let again = try await offPool {
                try [sockets[0], sockets[count - 1]].map { socket in
                    socket.send("GET /items/5 HTTP/1.1\r\nHost: x\r\n\r\n")
                    return try socket.readResponse().bodyText
                }
            }
            #expect(again == ["item 5 q=-", "item 5 q=-"])
        }
    }
}
