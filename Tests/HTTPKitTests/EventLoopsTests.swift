import Foundation
import Testing

@testable import HTTPKit

/// Several epoll event loops on one port (SO_REUSEPORT): every connection is served whichever loop the kernel
/// gives it to, each loop has its own thread, and shutdown stops them all.
@Suite struct EventLoopsTests {
    @Test func severalLoopsServeOnePort() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.eventLoops = 3 }
        let server = try await withTestServer(testRouter(), configure: configure) { server in
            try await waitForThreads(server, count: 3)
            #expect(Set(server.reactorThreadIDs).count == 3)
            // 60 clients, each its own connection (a fresh HTTPClient each), all answered.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<60 {
                    group.addTask { try await client(for: server).execute(.get, "/hello").status }
                }
                for try await status in group { #expect(status == 200) }
            }
            // curl as an independent peer, many fresh connections in one invocation.
            let port = server.port
            let out = try await offPool {
                shell("for i in $(seq 20); do curl -s http://127.0.0.1:\(port)/hello; echo; done")
            }
            #expect(out.output.split(separator: "\n").count == 20)
            return server
        }
        // Stopped: nothing listens on the port any more.
        let stopped = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(server.port)"))
        await #expect(throws: HTTPClientError.self) { try await stopped.execute(.get, "/hello", timeout: .seconds(2)) }
    }

    func waitForThreads(_ server: HTTPServer, count: Int) async throws {
        for _ in 0..<200 where server.reactorThreadIDs.count < count {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
