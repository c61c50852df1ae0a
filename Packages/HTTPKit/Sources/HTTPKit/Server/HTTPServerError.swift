public import LinuxSystem

/// Why the server could not start, e.g. "cannot listen on 127.0.0.1:8700: Address already in use".
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The failed system call, when there was one (`cause.errno == EADDRINUSE`, ...).
    public let cause: POSIXCallError?

    public init(message: String, cause: POSIXCallError? = nil) {
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
