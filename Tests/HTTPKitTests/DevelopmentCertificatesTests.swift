import Glibc
import HTTPKit
import Testing

@Suite struct DevelopmentCertificatesTests {
    @Test func writesAVerifiableCAServerAndClientCertificates() async throws {
        let fixture = try TLSFixture(clients: ["node-1", "gpu-02"])
        defer { fixture.remove() }
        let files = fixture.files
        for key in [files.caKey, files.serverKey, files.clients["node-1"]!.key, files.clients["gpu-02"]!.key] {
            var info = stat()
            #expect(stat(key, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600, "\(key)")
        }
        let checks = try await offPool {
            (
                shell("openssl verify -CAfile '\(files.caCertificate)' '\(files.serverCertificate)'"),
                shell("openssl x509 -in '\(files.serverCertificate)' -noout -ext subjectAltName,extendedKeyUsage"),
                shell(
                    "openssl verify -purpose sslclient -CAfile '\(files.caCertificate)' '\(files.clients["gpu-02"]!.certificate)'"
                ),
                shell("openssl x509 -in '\(files.clients["gpu-02"]!.certificate)' -noout -subject"),
                shell("openssl x509 -in '\(files.caCertificate)' -noout -ext basicConstraints"),
                shell("openssl pkey -in '\(files.serverKey)' -noout -text"),
                shell("openssl x509 -in '\(files.caCertificate)' -noout -subject")
            )
        }
        #expect(checks.0.status == 0 && checks.0.output.contains(": OK"), "\(checks.0.output)")
        #expect(checks.1.output.contains("DNS:localhost"), "\(checks.1.output)")
        #expect(checks.1.output.contains("IP Address:127.0.0.1"))
        #expect(checks.1.output.contains("TLS Web Server Authentication"))
        #expect(checks.2.status == 0, "\(checks.2.output)")
        #expect(checks.3.output.contains("CN = gpu-02"), "\(checks.3.output)")
        #expect(checks.4.output.contains("CA:TRUE"), "\(checks.4.output)")
        #expect(checks.6.output.contains("CN = Development CA"), "\(checks.6.output)")
        #expect(checks.5.output.contains("prime256v1") || checks.5.output.contains("P-256"), "\(checks.5.output)")
    }

    @Test func refusesToReplaceACAAndBadNames() throws {
        let fixture = try TLSFixture(clients: [])
        defer { fixture.remove() }
        let directory = fixture.directory + "/pki"
        let again = #expect(throws: DevelopmentCertificatesError.self) {
            try DevelopmentCertificates.generate(into: directory, hosts: ["localhost"])
        }
        #expect(again?.message.contains("ca-key.pem already exists") == true)
        #expect(throws: Never.self) {
            try DevelopmentCertificates.generate(into: directory, hosts: ["localhost"], overwrite: true)
        }
        let cases: [(hosts: [String], ips: [String], clients: [String])] = [
            ([], [], []), (["bad host"], [], []), (["localhost"], ["300.1.1.1"], []),
            (["localhost"], [], ["../escape"]), (["localhost"], [], ["a/b"]), (["localhost"], [], [""]),
            (["localhost"], [], ["tab\there"]), (["localhost"], [], [String(repeating: "x", count: 65)]),
        ]
        for (hosts, ips, clients) in cases {
            #expect(throws: DevelopmentCertificatesError.self, "\(hosts) \(ips) \(clients)") {
                try DevelopmentCertificates.generate(
                    into: fixture.directory + "/other",
                    hosts: hosts,
                    ips: ips,
                    clients: clients
                )
            }
        }
    }
}
