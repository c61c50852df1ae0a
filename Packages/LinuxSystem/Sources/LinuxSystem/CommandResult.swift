/// What a finished command left: its exit status (128 + the signal number when a signal ended it, as
/// shells report it) and its output, decoded as UTF-8 (invalid bytes replaced).
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// True when stdout or stderr went past `CommandRunner.outputLimit` and the rest was dropped.
    public let outputTruncated: Bool

    public init(status: Int32, stdout: String, stderr: String, outputTruncated: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.outputTruncated = outputTruncated
    }
}
