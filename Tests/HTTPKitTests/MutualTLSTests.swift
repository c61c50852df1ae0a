import HTTPKit
import Testing

/// Client certificates: verified against the server's client CA, their subject CN visible to handlers.
@Suite struct MutualTLSTests {
    @Test func requiredClientCertificate() async throws {
        let fixture = try TLSFixture(clients: ["node-1"])
        let stranger = try TLSFixture(clients: ["node-1"])  // another CA issuing the same name
        defer {
            fixture.remove()
            stranger.remove()
        }
        try await withTLSServer(fixture.mutualTLS(required: true)) { server in
            let port = server.port
            let agent = fixture.client(port: port, clientName: "node-1")
            let seen = try await agent.execute(.get, "/whoami")
            #expect(seen.status == 200 && text(seen.body) == "node-1")

            let anonymous = await #expect(throws: HTTPClientError.self) {
                try await fixture.client(port: port).execute(.get, "/whoami")
            }
            #expect(anonymous != nil)

            var impostorConfiguration = HTTPClientConfiguration(baseURL: "https://localhost:\(port)")
            impostorConfiguration.caFile = fixture.files.caCertificate
            impostorConfiguration.clientCertificateFile = stranger.files.clients["node-1"]!.certificate
            impostorConfiguration.clientKeyFile = stranger.files.clients["node-1"]!.key
            await #expect(throws: HTTPClientError.self) {
                try await HTTPClient(configuration: impostorConfiguration).execute(.get, "/whoami")
            }

            let own = fixture.files.clients["node-1"]!
            let foreign = stranger.files.clients["node-1"]!
            let curls = try await offPool {
                (
                    fixture.curl("--cert '\(own.certificate)' --key '\(own.key)'", path: "/whoami", port: port),
                    fixture.curl("", path: "/whoami", port: port),
                    fixture.curl("--cert '\(foreign.certificate)' --key '\(foreign.key)'", path: "/whoami", port: port),
                    fixture.curl(
                        "--cert '\(fixture.files.caCertificate)' --key '\(fixture.files.caKey)'",
                        path: "/whoami",
                        port: port
                    )
                )
            }
            #expect(curls.0.status == 0 && curls.0.output == "node-1", "\(curls.0.output)")
            #expect(curls.1.status != 0 && !curls.1.output.contains("-"), "\(curls.1.output)")
            #expect(curls.2.status != 0 && !curls.2.output.contains("node-1"), "\(curls.2.output)")
            // The self-signed CA certificate itself is not a client certificate the CA issued... but it does chain
            // to itself; what matters is that the handler sees its CN only if verified. Either way no "node-1".
            #expect(!curls.3.output.contains("node-1"))
            #expect(text(try await agent.execute(.get, "/whoami").body) == "node-1", "the refusals disturbed nothing")
        }
    }

    @Test func optionalClientCertificate() async throws {
        let fixture = try TLSFixture(clients: ["node-7"])
        defer { fixture.remove() }
        try await withTLSServer(fixture.mutualTLS(required: false)) { server in
            let withCertificate = try await fixture.client(port: server.port, clientName: "node-7").execute(
                .get,
                "/whoami"
            )
            #expect(text(withCertificate.body) == "node-7")
            let without = try await fixture.client(port: server.port).execute(.get, "/whoami")
            #expect(without.status == 200 && text(without.body) == "-")
        }
    }

    @Test func wrongCAOnTheClientGivesAClearError() async throws {
        let fixture = try TLSFixture()
        let other = try TLSFixture()
        defer {
            fixture.remove()
            other.remove()
        }
        try await withTLSServer(fixture.serverTLS) { server in
            let error = await #expect(throws: HTTPClientError.self) {
                try await other.client(port: server.port).execute(.get, "/hello")
            }
            #expect(error?.code == .tls)
            #expect(error?.message.hasPrefix("certificate verify failed") == true, "\(error?.message ?? "")")
            #expect(error?.description.contains("is --ca-file right?") == true)
        }
    }
}
