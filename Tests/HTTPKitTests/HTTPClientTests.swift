import Glibc
import HTTPKit
import Testing

@Suite struct HTTPClientTests {
    /// A port that nothing listens on: bind an ephemeral one, then close it.
    private func unusedPort() throws -> Int {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, responder: Router())
        try server.start()
        let port = server.port
        server.shutdown()
        return port
    }

    @Test func connectionRefused() async throws {
        let port = try unusedPort()
        try await Task.sleep(for: .milliseconds(100))
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(port)"))
        let error = try #require(throws: HTTPClientError.self) { try client.send(.get, "/v1/x") }
        #expect(error.code == .couldNotConnect)
        #expect(error.url == "http://127.0.0.1:\(port)/v1/x")
        #expect(error.message == "Connection refused")
        #expect(error.description == "cannot connect to http://127.0.0.1:\(port)/v1/x: Connection refused")

        await #expect(throws: HTTPClientError.self) { try await client.execute(.get, "/v1/x") }
    }

    @Test func timeout() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server)
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await #require(throws: HTTPClientError.self) {
                try await client.execute(.get, "/sleep/30000", timeout: .milliseconds(300))
            }
            #expect(error.code == .timedOut)
            // Only "did not wait for the 30 s handler": a loaded machine may take a while to notice the timeout.
            #expect(clock.now - start < .seconds(20))
            // The handle survives the timeout and is reused.
            #expect(try await client.execute(.get, "/hello").status == 200)
        }
    }

    @Test func invalidURL() {
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "ftp://example"))
        let error = #expect(throws: HTTPClientError.self) { try client.send(.get, "/") }
        #expect(error?.code == .invalidURL)
    }
}
