/// Why `DevelopmentCertificates.generate` failed, e.g. "cannot write /etc/pki/ca.pem: Permission denied" or
/// "invalid client name 'a/b' (...)".
public struct DevelopmentCertificatesError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
