import Foundation
import Testing

@testable import HTTPKit

/// Live tests: a real server on 127.0.0.1:0, real sockets, HTTPClient and the curl CLI as peers.
@Suite(.serialized) struct HTTPServerLiveTests {
    @Test func clientRoundTripWithBearerToken() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server, token: "tok-1")
            let get = try await client.execute(.get, "/hello")
            #expect(get.status == 200)
            #expect(text(get.body) == "hello")
            #expect(get.headers["Content-Type"] == "text/plain; charset=utf-8")

            let post = try await client.execute(.post, "/echo", body: Array(#"{"x":1}"#.utf8))
            #expect(post.status == 201)
            #expect(text(post.body) == #"{"x":1}"#)
            #expect(post.headers["X-Token"] == "tok-1")
            #expect(post.headers["X-Content-Type"] == "application/json")

            let item = try await offPool { try client.send(.get, "/items/a%20b?q=x+y") }
            #expect(text(item.body) == "item a b q=x y")
        }
    }

    @Test func errorsBecomeEnvelopes() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server)
            let missing = try await client.execute(.get, "/nope")
            #expect(missing.status == 404)
            #expect(text(missing.body).contains(#""code":"not_found""#))
            let failed = try await client.execute(.get, "/fail")
            #expect(failed.status == 500)
            #expect(text(failed.body) == #"{"error":{"code":"internal","message":"internal server error"}}"#)
            let teapot = try await client.execute(.get, "/teapot")
            #expect(teapot.status == 418)
            let wrongMethod = try await client.execute(.delete, "/hello")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["Allow"] == "GET, HEAD")
            let head = try await client.execute(.head, "/hello")
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "5")
            #expect(head.body.isEmpty)
        }
    }

    @Test func keepAliveReusesOneConnection() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server)
            var peers: Set<String> = []
            for _ in 0..<5 {
                peers.insert(text(try await client.execute(.get, "/peer").body))
            }
            #expect(peers.count == 1)
        }
    }

    @Test func largeBodyRoundTrip() async throws {
        try await withTestServer(testRouter()) { server in
            let body = [UInt8]((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
            let response = try await client(for: server).execute(.post, "/echo", body: body)
            #expect(response.status == 201)
            #expect(response.body == body)
        }
    }

    @Test func curlCLIAsIndependentPeer() async throws {
        try await withTestServer(testRouter()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            let output = try await runCurl([
                "-sS", "-i", "-H", "Authorization: Bearer cli", "-H", "Content-Type: application/json",
                "--data-binary", "{\"k\":\"v\"}", "\(base)/echo", "--next", "-sS", "\(base)/hello",
            ])
            #expect(output.contains("HTTP/1.1 201 Created"))
            #expect(output.contains("X-Token: cli"))
            #expect(output.contains("{\"k\":\"v\"}"))
            #expect(output.hasSuffix("hello"))
            // curl -v reports connection reuse across the two URLs.
            let verbose = try await runCurl(["-sv", "\(base)/hello", "\(base)/hello"])
            #expect(verbose.contains("Re-using existing connection") || verbose.contains("Reusing existing connection"))
        }
    }

    @Test func longPollDoesNotBlockOtherConnections() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server)
            let clock = ContinuousClock()
            let start = clock.now
            async let slow = client.execute(.get, "/sleep/5000")
            try await Task.sleep(for: .milliseconds(200))
            let fastStart = clock.now
            let fast = try await client.execute(.get, "/hello")
            let fastElapsed = clock.now - fastStart
            #expect(fast.status == 200)
            // Answered while the 5 s handler still waits (generous: only "not queued behind it").
            #expect(fastElapsed < .milliseconds(4000))
            #expect(text(try await slow.body) == "slept 5000")
            #expect(clock.now - start >= .milliseconds(5000))
        }
    }

    @Test func concurrentLongPollsDoNotStarveTheClient() async throws {
        try await withTestServer(testRouter()) { server in
            let client = client(for: server)
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await client.execute(.get, "/sleep/1000").status }
                }
                for try await status in group { #expect(status == 200) }
            }
            // Eight 1 s requests one after another would take 8 s.
            #expect(clock.now - start < .milliseconds(6000))
        }
    }

    @Test func idleConnectionsCostNoThreads() async throws {
        raiseDescriptorLimit()
        try await withTestServer(testRouter()) { server in
            let before = threadCount()
            var sockets: [RawSocket] = []
            for _ in 0..<500 { sockets.append(try RawSocket(port: server.port)) }
            // Half of them sent a partial request, the rest nothing at all.
            for socket in sockets.prefix(250) { socket.send("GET /hello HTTP/1.1\r\nHost: x\r\n") }
            try await Task.sleep(for: .milliseconds(300))
            let response = try await client(for: server).execute(.get, "/hello")
            #expect(response.status == 200)
            let during = threadCount()
            #expect(during < before + 20, "threads: \(before) before, \(during) with 500 connections")
            #expect(during < 100)
            sockets[0].send("\r\n")
            #expect(try sockets[0].readResponse().bodyText == "hello")
        }
    }

    @Test func shutdownStopsTheReactorThread() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, responder: testRouter())
        try server.start()
        let port = server.port
        #expect(port > 0)
        var tid: Int32 = 0
        for _ in 0..<100 where tid == 0 {
            tid = server.reactorThreadID
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(tid > 0)
        #expect(FileManager.default.fileExists(atPath: "/proc/self/task/\(tid)"))
        let idle = try RawSocket(port: port)
        _ = idle
        server.shutdown()
        await server.waitUntilStopped()
        try await Task.sleep(for: .milliseconds(50))
        #expect(!FileManager.default.fileExists(atPath: "/proc/self/task/\(tid)"))
        #expect(try await offPool { idle.readToEnd() }.closed)
        #expect(throws: TestFailure.self) { try RawSocket(port: port) }
    }

    @Test func shutdownLetsInFlightResponsesFinish() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, responder: testRouter())
        try server.start()
        let client = client(for: server)
        async let slow = client.execute(.get, "/sleep/500")
        try await Task.sleep(for: .milliseconds(200))
        server.shutdown()
        let response = try await slow
        #expect(response.status == 200)
        #expect(response.headers["Connection"] == "close")
        await server.waitUntilStopped()
    }

    @Test func addressInUseNamesHostAndPort() throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let first = HTTPServer(configuration: configuration, responder: Router())
        try first.start()
        defer { first.shutdown() }
        configuration.port = first.port
        let second = HTTPServer(configuration: configuration, responder: Router())
        let error = try #require(throws: HTTPServerError.self) { try second.start() }
        #expect(error.description == "cannot listen on 127.0.0.1:\(first.port): Address already in use")
    }
}

func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

/// The threads of this process whose name is `name` (servers name theirs after their configuration, "http").
func threadCount(named name: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
        return comm.trimmingCharacters(in: .whitespacesAndNewlines) == name
    }.count
}

/// At least 8192 descriptors: never lowers the limit, which another suite (ManyConnectionsTests, holding
/// 10,000 at once) may have raised while this one runs in the same process.
func raiseDescriptorLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 8192))
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

func runCurl(_ arguments: [String]) async throws -> String {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
