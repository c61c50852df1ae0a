import Glibc

/// Questions on a terminal, for the `configure` commands of `corral` and `corral-agent`: asked only when
/// both standard input and standard error are terminals, so scripts never hang on one.
public enum Prompt {
    public static var interactive: Bool {
        FileHandleOutput.isTerminal(STDIN_FILENO) && FileHandleOutput.isTerminal(STDERR_FILENO)
    }

    /// Asks for a value; Enter (or end of input) keeps `current`.
    public static func ask(_ question: String, current: String?) -> String? {
        let prompt = current.map { "\(question) [\($0)]: " } ?? "\(question): "
        guard let line = try? Files.standardInputLine(prompt: prompt, echo: true).trimmingWhitespace(),
            !line.isEmpty
        else { return current }
        return line
    }

    /// Asks for a secret without echoing it; Enter keeps `current`, which the question shows by its first
    /// 12 characters only.
    public static func askSecret(_ question: String, current: String?) throws(Files.Failure) -> String? {
        let kept = current.map { " [Enter keeps \($0.prefix(12))...]" } ?? ""
        let typed = try Files.standardInputLine(prompt: "\(question) (not shown)\(kept): ").trimmingWhitespace()
        return typed.isEmpty ? current : typed
    }
}
