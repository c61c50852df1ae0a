/// A CLI failure: what happened and what to do, with the exit code it maps to (1 error, 2 usage).
public struct CLIError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let exitCode: Int32
    public let code: String

    public var description: String { message }

    static func usage(_ message: String) -> CLIError {
        CLIError(message: message + "\nrun corral --help for usage", exitCode: 2, code: "usage")
    }

    static func failure(_ message: String, code: String = "error") -> CLIError {
        CLIError(message: message, exitCode: 1, code: code)
    }
}
