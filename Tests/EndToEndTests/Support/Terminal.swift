import Foundation
import Glibc

/// A conversation with a command on a real pseudo-terminal, so the program sees a terminal on stdin, stdout
/// and stderr exactly as when a person runs it: each answer is typed only once its question has appeared.
struct TerminalFailure: Error, CustomStringConvertible {
    let description: String
}

extension TestCluster {
    /// Runs `binary` on a new pty; for each (question, answer), waits until `question` has been printed since
    /// the previous answer, then types `answer` and a newline. Returns the exit status and everything shown.
    func runOnTerminal(
        _ binary: String,
        _ arguments: [String],
        conversation: [(question: String, answer: String)]
    ) async throws -> (status: Int32, screen: String) {
        let path = Self.binaries + "/" + binary
        let environment = environment()
        recordCommandLine([binary] + arguments)
        let steps = conversation.map { [$0.question, $0.answer] }
        return try await offPool { try Self.converse(path, arguments, environment, steps) }
    }

    private static func converse(
        _ path: String,
        _ arguments: [String],
        _ environment: [String: String],
        _ steps: [[String]]
    ) throws -> (status: Int32, screen: String) {
        // posix_openpt/grantpt/unlockpt/ptsname are not in Swift's Glibc module: the same through /dev/ptmx
        // and its ioctls (TIOCSPTLCK to unlock, TIOCGPTN for the number; the generic Linux encoding).
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw TerminalFailure(description: "no pseudo-terminal: errno \(errno)")
        }
        defer { close(master) }
        let follower = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard follower >= 0 else { throw TerminalFailure(description: "cannot open /dev/pts/\(number)") }
        let handle = FileHandle(fileDescriptor: follower, closeOnDealloc: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()  // only the child holds the terminal now: reads end (EIO) when it exits

        var screen: [UInt8] = []
        var seen = 0  // where the next question is looked for
        var step = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            screen.append(contentsOf: buffer[0..<count])
            while step < steps.count {
                let text = String(decoding: screen[seen...], as: UTF8.self)
                guard text.contains(steps[step][0]) else { break }
                seen = screen.count
                let line = Array((steps[step][1] + "\n").utf8)
                _ = line.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
                step += 1
            }
        }
        process.waitUntilExit()
        guard step == steps.count else {
            let shown = String(decoding: screen, as: UTF8.self)
            throw TerminalFailure(description: "never asked '\(steps[step][0])'; the screen was:\n\(shown)")
        }
        return (process.terminationStatus, String(decoding: screen, as: UTF8.self))
    }
}
