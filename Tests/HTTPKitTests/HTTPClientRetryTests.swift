import Dispatch
import Glibc
import HTTPKit
import Synchronization
import Testing

/// A listener that accepts, reads a request and closes without answering (curl: "Empty reply from server"),
/// counting connections.
private final class SilentListener: Sendable {
    let fd: Int32
    let port: Int
    private let accepted = Atomic(0)
    private let stopped = Atomic(false)

    init() throws {
        (fd, port) = try loopbackListener()
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        DispatchQueue(label: "silent-listener").async { self.loop() }
    }

    private func loop() {
        while !stopped.load(ordering: .acquiring) {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { continue }
            accepted.add(1, ordering: .relaxed)
            var buffer = [UInt8](repeating: 0, count: 4096)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = recv(connection, &buffer, buffer.count, 0)
            close(connection)
        }
        close(fd)
    }

    var connections: Int { accepted.load(ordering: .relaxed) }

    func stop() { stopped.store(true, ordering: .releasing) }
}

@Suite struct HTTPClientRetryTests {
    private func client(port: Int, retries: Int) -> HTTPClient {
        var configuration = HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(port)")
        configuration.maxRetries = retries
        configuration.retryBaseDelay = .milliseconds(20)
        configuration.maxRetryDelay = .milliseconds(100)
        return HTTPClient(configuration: configuration)
    }

    @Test func idempotentRequestsAreRetriedAndPostIsNot() async throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let client = client(port: listener.port, retries: 2)

        let get = await #expect(throws: HTTPClientError.self) { try await client.execute(.get, "/x") }
        #expect(get?.code == .transfer)
        #expect(listener.connections == 3, "GET: one attempt and two retries")

        let post = await #expect(throws: HTTPClientError.self) {
            try await client.execute(.post, "/x", body: Array("{}".utf8))
        }
        #expect(post?.code == .transfer)
        #expect(listener.connections == 4, "POST: sent once, never retried")

        _ = await #expect(throws: HTTPClientError.self) { try await client.execute(.delete, "/x") }
        #expect(listener.connections == 7)
        let noRetries = self.client(port: listener.port, retries: 0)
        _ = await #expect(throws: HTTPClientError.self) { try await noRetries.execute(.get, "/x") }
        #expect(listener.connections == 8)
    }

    @Test func getIsRetriedUntilTheServerComesUp() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let probe = HTTPServer(configuration: configuration, responder: Router())
        try probe.start()
        let port = probe.port
        probe.shutdown()
        await probe.waitUntilStopped()

        var retrying = HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(port)")
        retrying.maxRetries = 40
        retrying.retryBaseDelay = .milliseconds(50)
        retrying.maxRetryDelay = .milliseconds(200)
        let client = HTTPClient(configuration: retrying)
        let refusedPost = await #expect(throws: HTTPClientError.self) {
            try await client.execute(.post, "/echo", body: Array("{}".utf8))
        }
        #expect(refusedPost?.code == .couldNotConnect, "POST fails at once")

        async let response = client.execute(.get, "/hello")
        try await Task.sleep(for: .milliseconds(300))
        configuration.port = port
        let server = HTTPServer(configuration: configuration, responder: testRouter())
        try server.start()
        let answered = try await response
        #expect(answered.status == 200 && text(answered.body) == "hello")
        server.shutdown()
        await server.waitUntilStopped()
    }

    @Test func backoffDoublesAndIsCapped() {
        // Not public API: checked through the documented bounds of retryBaseDelay / maxRetryDelay.
        var configuration = HTTPClientConfiguration(baseURL: "http://127.0.0.1:1")
        configuration.maxRetries = 1
        #expect(configuration.retryBaseDelay == .milliseconds(250))
        #expect(HTTPMethod.get.isIdempotent && HTTPMethod.put.isIdempotent && HTTPMethod.delete.isIdempotent)
        #expect(!HTTPMethod.post.isIdempotent && !HTTPMethod.patch.isIdempotent)
    }
}
