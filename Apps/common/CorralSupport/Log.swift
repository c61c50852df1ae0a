import ClusterCore
import Glibc
import Synchronization

/// Where the apps write their log lines. Libraries take a `LogSink`; only the executables create one.
public protocol LogSink: Sendable {
    func log(_ level: LogLevel, _ message: String)
}

public enum LogLevel: Int, Comparable, Sendable, CustomStringConvertible {
    case debug, info, warning, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warn"
        case .error: "error"
        }
    }
}

extension LogSink {
    public func debug(_ message: String) { log(.debug, message) }
    public func info(_ message: String) { log(.info, message) }
    public func warning(_ message: String) { log(.warning, message) }
    public func error(_ message: String) { log(.error, message) }
}

/// Lines of `time level component: message` on standard error, written whole (one write each) so lines
/// from several threads never interleave.
public struct StderrLog: LogSink {
    public let component: String
    public let minimum: LogLevel

    public init(component: String, minimum: LogLevel = .info) {
        self.component = component
        self.minimum = minimum
    }

    public func log(_ level: LogLevel, _ message: String) {
        guard level >= minimum else { return }
        let line = "\(WallTime.rfc3339(SystemClock().now().milliseconds)) \(level) \(component): \(message)\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }
}

/// Collects lines in memory, for tests.
public final class MemoryLog: LogSink {
    private let lines = Mutex<[String]>([])
    public init() {}
    public func log(_ level: LogLevel, _ message: String) { lines.withLock { $0.append("\(level) \(message)") } }
    public var entries: [String] { lines.withLock { $0 } }
}

enum WallTime {
    static func rfc3339(_ ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(ms % 1000), 3))Z"
    }
}
