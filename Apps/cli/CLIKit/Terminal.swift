import CorralSupport
import Glibc

/// Colour only on a terminal and never with NO_COLOR; questions only on a terminal.
enum Terminal {
    static var colour: Bool {
        FileHandleOutput.isTerminal(STDOUT_FILENO) && Files.environment("NO_COLOR") == nil
            && Files.environment("TERM") != "dumb"
    }

    static var interactive: Bool { Prompt.interactive }

    /// The state, coloured when colour is on (after padding, so columns still line up).
    static func paint(_ state: String, padded: String) -> String {
        guard colour else { return padded }
        let code: String =
            switch state {
            case "SUCCEEDED": "32"
            case "FAILED", "LOST": "31"
            case "RUNNING", "STARTING": "36"
            case "QUEUED", "ALLOCATED": "33"
            default: "2"
            }
        let trimmed = padded.count - state.count
        return "\u{1B}[\(code)m\(state)\u{1B}[0m" + String(repeating: " ", count: max(0, trimmed))
    }

    /// Asks for a value on the terminal; Enter (or end of input) keeps `current`.
    static func ask(_ question: String, current: String?) -> String? { Prompt.ask(question, current: current) }

    /// Asks a yes/no question on the terminal; false when the answer is not yes.
    static func confirm(_ question: String) -> Bool {
        FileHandleOutput.stderr("\(question) [y/N] ")
        guard let line = readLine() else { return false }
        return ["y", "yes"].contains(line.lowercased().trimmingWhitespace())
    }
}
