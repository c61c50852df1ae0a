import Glibc

/// Unbuffered writes to standard output and error, whole strings at a time.
public enum FileHandleOutput {
    public static func stdout(_ text: String) { write(STDOUT_FILENO, text) }
    public static func stdoutBytes(_ bytes: [UInt8]) { write(STDOUT_FILENO, bytes) }
    public static func stderr(_ text: String) { write(STDERR_FILENO, text) }

    static func write(_ fd: Int32, _ text: String) { write(fd, Array(text.utf8)) }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var bytes = bytes
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
