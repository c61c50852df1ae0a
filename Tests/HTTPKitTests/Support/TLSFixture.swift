import HTTPKit
import Synchronization

/// Certificates from `DevelopmentCertificates` in a temporary directory: a CA, a server certificate for
/// localhost and 127.0.0.1, and client certificates.
struct TLSFixture: Sendable {
    let directory: String
    let files: DevelopmentCertificates.Files

    init(clients: [String] = ["node-1"]) throws {
        directory = try makeTemporaryDirectory()
        files = try DevelopmentCertificates.generate(
            into: directory + "/pki",
            hosts: ["localhost"],
            ips: ["127.0.0.1", "::1"],
            clients: clients,
            validityDays: 30
        )
    }

    func remove() { removeDirectory(directory) }

    var serverTLS: TLSConfiguration {
        TLSConfiguration(certificateChainFile: files.serverCertificate, privateKeyFile: files.serverKey)
    }

    /// Server TLS that asks for client certificates signed by this CA.
    func mutualTLS(required: Bool) -> TLSConfiguration {
        var tls = serverTLS
        tls.clientCAFile = files.caCertificate
        tls.requireClientCertificate = required
        return tls
    }

    func client(port: Int, host: String = "localhost", clientName: String? = nil) -> HTTPClient {
        var configuration = HTTPClientConfiguration(baseURL: "https://\(host):\(port)")
        configuration.caFile = files.caCertificate
        if let clientName, let paths = files.clients[clientName] {
            configuration.clientCertificateFile = paths.certificate
            configuration.clientKeyFile = paths.key
        }
        return HTTPClient(configuration: configuration)
    }

    /// `curl` with this CA and optional extra arguments; returns (exit status, output).
    func curl(_ arguments: String, path: String, port: Int) -> (status: Int32, output: String) {
        shell("curl -sS --max-time 20 --cacert '\(files.caCertificate)' \(arguments) https://localhost:\(port)\(path)")
    }
}

/// A router for the TLS tests: the test router plus /whoami (client certificate subject) and /stream/{n}.
func tlsRouter() -> Router {
    var router = testRouter()
    router.add(.get, "/whoami") { request in .text(request.clientCertificateSubject ?? "-") }
    router.add(.get, "/stream/{kib}") { request in
        let kib = Int(request.pathParameters["kib"] ?? "0") ?? 0
        return .stream(headers: HTTPHeaders([("Content-Type", "application/octet-stream")])) { body in
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: 1024)
            for _ in 0..<kib { try await body.write(block) }
        }
    }
    return router
}

/// Counts bytes from a `@Sendable` stream callback.
final class ByteCounter: Sendable {
    private let count = Mutex(0)
    func add(_ bytes: Int) { count.withLock { $0 += bytes } }
    var total: Int { count.withLock { $0 } }
}

/// `withTestServer` with `tlsRouter()` serving HTTPS with `tls`.
func withTLSServer<T>(_ tls: TLSConfiguration, _ body: (HTTPServer) async throws -> T) async throws -> T {
    let configure: (inout HTTPServerConfiguration) -> Void = { $0.tls = tls }
    return try await withTestServer(tlsRouter(), configure: configure, body)
}
