import HTTPKit
import Testing

/// HTTPS through OpenSSL on the reactor, checked with HTTPClient, `curl` and `openssl s_client` as peers.
@Suite struct TLSServerTests {
    @Test func servesHTTPSToHTTPClientCurlAndOpenSSL() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        try await withTLSServer(fixture.serverTLS) { server in
            let port = server.port
            let client = fixture.client(port: port)
            for _ in 0..<3 {  // keep-alive reuse of one TLS connection
                let response = try await client.execute(.get, "/hello")
                #expect(response.status == 200)
                #expect(text(response.body) == "hello")
            }
            let posted = try await client.execute(.post, "/echo", body: Array(#"{"a":1}"#.utf8))
            #expect(posted.status == 201 && text(posted.body) == #"{"a":1}"#)
            #expect(
                text(try await fixture.client(port: port, host: "127.0.0.1").execute(.get, "/hello").body) == "hello"
            )
            #expect(text(try await client.execute(.get, "/whoami").body) == "-")

            let request = #"printf 'GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'"#
            let peers = try await offPool {
                (
                    fixture.curl("", path: "/items/7?q=tls", port: port),
                    shell(
                        "\(request) | openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(fixture.files.caCertificate)' -verify_return_error -tls1_2 -quiet"
                    ),
                    shell(
                        "\(request) | openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(fixture.files.caCertificate)' -verify_return_error -tls1_3 -quiet"
                    )
                )
            }
            #expect(peers.0.status == 0 && peers.0.output == "item 7 q=tls", "\(peers.0.output)")
            #expect(
                peers.1.output.contains("HTTP/1.1 200 OK") && peers.1.output.hasSuffix("hello"),
                "\(peers.1.output)"
            )
            #expect(
                peers.2.output.contains("HTTP/1.1 200 OK") && peers.2.output.hasSuffix("hello"),
                "\(peers.2.output)"
            )
        }
    }

    @Test func refusesTLS11AndWeakCiphers() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        try await withTLSServer(fixture.serverTLS) { server in
            let port = server.port
            let connect =
                "openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(fixture.files.caCertificate)' </dev/null"
            let results = try await offPool {
                (
                    fixture.curl("--tlsv1.0 --tls-max 1.1", path: "/hello", port: port),
                    shell("\(connect) -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'"),
                    shell("\(connect) -tls1_2 -cipher 'AES128-SHA256:AES256-SHA'"),
                    shell("\(connect) -tls1_2 -cipher 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA'"),
                    shell("\(connect) -tls1_2"),
                    fixture.curl("", path: "/hello", port: port)
                )
            }
            #expect(results.0.status != 0, "\(results.0.output)")
            #expect(!results.0.output.contains("hello"))
            // The server answers a TLS 1.1 ClientHello with a protocol_version alert; no cipher is agreed.
            #expect(results.1.status != 0 && results.1.output.contains("alert protocol version"), "\(results.1.output)")
            #expect(results.1.output.contains("Cipher is (NONE)"))
            #expect(results.2.status != 0 && results.2.output.contains("handshake failure"), "\(results.2.output)")
            #expect(results.3.status != 0, "\(results.3.output)")
            #expect(
                results.4.output.contains("Protocol  : TLSv1.2") && results.4.output.contains("ECDHE"),
                "\(results.4.output)"
            )
            #expect(results.5.output == "hello", "the refusals did not disturb the server")
        }
    }

    @Test func failedHandshakesDoNotDisturbOtherConnections() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        try await withTLSServer(fixture.serverTLS) { server in
            let client = fixture.client(port: server.port)
            #expect(try await client.execute(.get, "/hello").status == 200)  // a kept-alive TLS connection
            let port = server.port
            let outcomes = try await offPool {
                var closed: [Bool] = []
                for garbage in [
                    "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", "\u{16}\u{03}\u{01}\u{00}\u{05}hello",
                    "PRI * HTTP/2.0\r\n\r\n",
                ] {
                    let socket = try RawSocket(port: port)
                    socket.send(garbage)
                    let answer = socket.readToEnd()
                    closed.append(answer.closed && !text(answer.bytes).contains("HTTP/1.1"))
                }
                return closed
            }
            #expect(outcomes == [true, true, true])
            let plainClient = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(port)"))
            await #expect(throws: HTTPClientError.self) { try await plainClient.execute(.get, "/hello") }
            #expect(try await client.execute(.get, "/hello").status == 200)
        }
    }

    @Test func startFailsClearlyOnBadKeyOrCertificateFiles() throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        let garbage = fixture.directory + "/garbage.pem"
        _ = shell("echo 'not a certificate' > '\(garbage)'")
        let files = fixture.files
        let missing = fixture.directory + "/missing.pem"
        let cases: [(TLSConfiguration, [String])] = [
            (
                TLSConfiguration(certificateChainFile: missing, privateKeyFile: files.serverKey),
                [missing, "No such file"]
            ),
            (
                TLSConfiguration(certificateChainFile: files.serverCertificate, privateKeyFile: missing),
                [missing, "No such file"]
            ),
            (
                TLSConfiguration(certificateChainFile: garbage, privateKeyFile: files.serverKey),
                [garbage, "no start line"]
            ),
            (
                TLSConfiguration(certificateChainFile: files.serverCertificate, privateKeyFile: garbage),
                [garbage, "private key"]
            ),
            (
                TLSConfiguration(
                    certificateChainFile: files.serverCertificate,
                    privateKeyFile: files.clients["node-1"]!.key
                ),
                [files.clients["node-1"]!.key, "mismatch"]
            ),
            (
                TLSConfiguration(
                    certificateChainFile: files.serverCertificate,
                    privateKeyFile: files.serverKey,
                    clientCAFile: garbage
                ),
                [garbage, "client CA"]
            ),
            (
                TLSConfiguration(
                    certificateChainFile: files.serverCertificate,
                    privateKeyFile: files.serverKey,
                    requireClientCertificate: true
                ),
                ["clientCAFile"]
            ),
        ]
        for (tls, expected) in cases {
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            configuration.tls = tls
            let server = HTTPServer(configuration: configuration, responder: Router())
            let error = #expect(throws: HTTPServerError.self) { try server.start() }
            for fragment in expected {
                #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error") lacks \(fragment)")
            }
        }
    }

    @Test func longPollAndChunkedStreamOverTLS() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        try await withTLSServer(fixture.serverTLS) { server in
            let client = fixture.client(port: server.port)
            async let poll = client.execute(.get, "/sleep/1500")
            let received = ByteCounter()
            let streamed = try await client.stream(.get, "/stream/4096") { chunk in
                received.add(chunk.count)
                return true
            }
            #expect(streamed.status == 200)
            #expect(streamed.headers["Transfer-Encoding"] == "chunked")
            #expect(received.total == 4096 * 1024)
            #expect(text(try await poll.body) == "slept 1500")

            // Stopping early is not an error, and the server keeps serving.
            let early = ByteCounter()
            let stopped = try await client.stream(.get, "/stream/100000") { chunk in
                early.add(chunk.count)
                return false
            }
            #expect(stopped.status == 200 && early.total > 0 && early.total < 100_000 * 1024)
            let port = server.port
            let curled = try await offPool { fixture.curl("-N", path: "/stream/64", port: port) }
            #expect(curled.output.utf8.count == 64 * 1024, "\(curled.output.prefix(200))")
        }
    }
}
