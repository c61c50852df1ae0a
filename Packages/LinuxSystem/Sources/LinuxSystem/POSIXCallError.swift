internal import Glibc

/// A failed system call: which function, the errno it left, and `strerror`'s text for it.
public struct POSIXCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public let function: String
    public let errno: Int32

    public init(function: String, errno: Int32) {
        self.function = function
        self.errno = errno
    }

    /// `strerror(errno)`, for example "Address already in use".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String { "\(function): \(message) (errno \(errno))" }
}
