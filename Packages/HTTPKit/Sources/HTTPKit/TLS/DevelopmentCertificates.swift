internal import COpenSSL
internal import Glibc

/// A development PKI made with OpenSSL's C API (no `openssl` command): a CA, a server certificate signed by
/// it for the given DNS names and IP addresses, and client certificates whose subject CN is the client's
/// name (for mTLS). Keys are ECDSA P-256, certificates SHA-256 signed, private keys written mode 0600.
///
/// Layout in `directory`: `ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem`, and per client NAME
/// `clients/NAME.pem`, `clients/NAME-key.pem`. Which names an application allows for its clients is its own
/// rule, to check before; this only refuses names that cannot be a CN and a file name.
public enum DevelopmentCertificates {
    /// The paths written by `generate`.
    public struct Files: Sendable, Equatable {
        public var caCertificate: String
        public var caKey: String
        public var serverCertificate: String
        public var serverKey: String
        /// Client name -> its client certificate and key.
        public var clients: [String: ClientFiles]
    }

    public struct ClientFiles: Sendable, Equatable {
        public var certificate: String
        public var key: String
    }

    /// Creates the directory (0700) if needed and writes a fresh CA, a server certificate for `hosts` (DNS
    /// names) and `ips` (IPv4/IPv6 literals), and one client certificate per entry of `clients`. Refuses to
    /// replace an existing `ca-key.pem` unless `overwrite` is true (a new CA invalidates every certificate
    /// issued before). At least one host or IP is required. `caName` is the CA's subject CN, which clients
    /// show when they name the issuer.
    public static func generate(
        into directory: String,
        hosts: [String],
        ips: [String] = [],
        clients: [String] = [],
        caName: String = "Development CA",
        validityDays: Int = 825,
        overwrite: Bool = false
    ) throws(DevelopmentCertificatesError) -> Files {
        guard !hosts.isEmpty || !ips.isEmpty else {
            throw DevelopmentCertificatesError(message: "a server certificate needs at least one host name or IP")
        }
        if let why = OpenSSLErrors.unavailable() { throw DevelopmentCertificatesError(message: why) }
        guard (1...3650).contains(validityDays) else {
            throw DevelopmentCertificatesError(message: "validity must be 1...3650 days, not \(validityDays)")
        }
        for host in hosts where !isValidHostName(host) {
            throw DevelopmentCertificatesError(message: "invalid host name '\(host)'")
        }
        for ip in ips where !isIPAddress(ip) {
            throw DevelopmentCertificatesError(message: "invalid IP address '\(ip)'")
        }
        for client in clients where !isValidClientName(client) {
            throw DevelopmentCertificatesError(
                message: "invalid client name '\(client)' (1-64 bytes, no '/' or control characters, "
                    + "not starting with '.')"
            )
        }
        guard !caName.isEmpty, caName.utf8.count <= 64 else {
            throw DevelopmentCertificatesError(message: "the CA's name must be 1-64 bytes, not '\(caName)'")
        }
        let base = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        try PEMFile.makeDirectory(base)
        let files = Files(
            caCertificate: base + "/ca.pem",
            caKey: base + "/ca-key.pem",
            serverCertificate: base + "/server.pem",
            serverKey: base + "/server-key.pem",
            clients: Dictionary(
                uniqueKeysWithValues: clients.map {
                    ($0, ClientFiles(certificate: "\(base)/clients/\($0).pem", key: "\(base)/clients/\($0)-key.pem"))
                }
            )
        )
        if !overwrite, access(files.caKey, F_OK) == 0 {
            throw DevelopmentCertificatesError(
                message: "\(files.caKey) already exists; refusing to replace the CA (pass overwrite to do so)"
            )
        }

        OpenSSLErrors.clear()
        let ca = try CertificateBuilder.makeCA(commonName: caName, validityDays: validityDays)
        defer { ca.free() }
        try PEMFile.write(ca.keyPEM(), to: files.caKey, mode: 0o600)
        try PEMFile.write(ca.certificatePEM(), to: files.caCertificate, mode: 0o644)

        var alternativeNames = hosts.map { "DNS:\($0)" }
        alternativeNames += ips.map { "IP:\($0)" }
        let server = try CertificateBuilder.makeLeaf(
            commonName: hosts.first ?? ips[0],
            extensions: [
                (NID_subject_alt_name, alternativeNames.joined(separator: ",")),
                (NID_ext_key_usage, "serverAuth"),
            ],
            issuer: ca,
            validityDays: validityDays
        )
        defer { server.free() }
        try PEMFile.write(server.keyPEM(), to: files.serverKey, mode: 0o600)
        try PEMFile.write(server.certificatePEM(), to: files.serverCertificate, mode: 0o644)

        if !clients.isEmpty { try PEMFile.makeDirectory(base + "/clients") }
        for client in clients {
            guard let paths = files.clients[client] else { continue }
            let leaf = try CertificateBuilder.makeLeaf(
                commonName: client,
                extensions: [(NID_ext_key_usage, "clientAuth")],
                issuer: ca,
                validityDays: validityDays
            )
            defer { leaf.free() }
            try PEMFile.write(leaf.keyPEM(), to: paths.key, mode: 0o600)
            try PEMFile.write(leaf.certificatePEM(), to: paths.certificate, mode: 0o644)
        }
        return files
    }

    static func isValidHostName(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        } || (name.hasPrefix("*.") && isValidHostName(String(name.dropFirst(2))))
    }

    /// A client's name becomes its certificate's subject CN, at most 64 bytes in X.509 (ub-common-name), and the
    /// name of its two files in `clients/`: so no '/', no control characters, and no leading '.' (hidden
    /// files, "..").
    static func isValidClientName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".")
            && name.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "/") }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
