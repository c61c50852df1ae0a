/// Reads a command line one argument at a time, for all four programs (`corral`, `corral-agent`,
/// `corral-controller`, `corral-bench`): long options with their value apart or attached (`--gpus 2`,
/// `--gpus=2`), switches, short aliases (`-f`, returned as written), positional words, and `--`, after which
/// every word is positional. Any other word that starts with a dash is an option. Global options (the CLI's
/// `--json`, `--endpoint URL`) are taken wherever an option may stand and collected in `globals`, so a
/// command never sees them.
///
/// It takes `[String]` and touches nothing, so each program's parsing is tested without a process; every
/// mistake is a `UsageError`, which each program presents its own way.
///
///     var reader = ArgumentReader(["--tail", "20", "-f", "job1"])
///     while let argument = try reader.next() {
///         switch argument {
///         case .option("--tail"): tail = try reader.integer(for: "--tail")
///         case .option("-f"): follow = true
///         case .option(let other): throw UsageError.unknownOption(other, for: "logs")
///         case .positional(let word): words.append(word)
///         }
///     }
public struct ArgumentReader: Sendable {
    /// One thing read: an option by its name (without any `=value`, which `value(for:)` returns), or a word.
    public enum Argument: Sendable, Equatable {
        case option(String)
        case positional(String)
    }

    private var arguments: [String]
    private var index = 0
    /// Set by `--`: what follows is positional, even when it starts with a dash.
    private var optionsEnded = false
    /// The value written into the option last returned (`--gpus=2`) until `value(for:)` takes it: a switch
    /// that is given one is refused rather than the value silently dropped.
    private var attached: (option: String, value: String)?
    /// Arrays, not sets: these lists are a few names long, and a `Set<String>` is a generic instance the Swift
    /// runtime builds at its first use, with a scan of the binary's protocol conformances; for `corral --help`
    /// that was most of what it did beyond squeue (docs/PERFORMANCE.md).
    private let globalSwitches: [String]
    private let globalOptions: [String]

    /// The global options read so far, by name; the last one given wins, and a switch's value is "".
    public private(set) var globals: [String: String] = [:]

    /// `globalSwitches` and `globalOptions` (which take a value) are accepted wherever an option may stand.
    public init(_ arguments: [String], globalSwitches: [String] = [], globalOptions: [String] = []) {
        self.arguments = arguments
        self.globalSwitches = globalSwitches
        self.globalOptions = globalOptions
    }

    /// True when every argument has been read.
    public var isAtEnd: Bool { index >= arguments.count }

    /// The next option or word, skipping global options; nil at the end.
    public mutating func next() throws(UsageError) -> Argument? {
        if let attached { throw UsageError.unexpectedValue(attached.option) }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded { return .positional(argument) }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            guard Self.isOption(argument) else { return .positional(argument) }
            let (name, value) = Self.split(argument)
            if let global = try readGlobal(name, value, at: index) {
                globals[name] = global.value
                index += global.used
                continue
            }
            attached = value.map { (name, $0) }
            return .option(name)
        }
        return nil
    }

    /// The value of the option just read: the one attached to it, else the next argument as written (so
    /// `--priority -5` and `--token -` work).
    public mutating func value(for option: String) throws(UsageError) -> String {
        if let attached {
            self.attached = nil
            return attached.value
        }
        guard index < arguments.count else { throw UsageError.missingValue(option) }
        index += 1
        return arguments[index - 1]
    }

    /// The next argument as written, after any global options before it: a command's name, which may look
    /// like an option (`corral --version`) or be a mistake to report as typed.
    public mutating func nextWord() throws(UsageError) -> String? {
        if let attached { throw UsageError.unexpectedValue(attached.option) }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if !optionsEnded, Self.isOption(argument) {
                let (name, value) = Self.split(argument)
                if let global = try readGlobal(name, value, at: index) {
                    globals[name] = global.value
                    index += global.used
                    continue
                }
            }
            return argument
        }
        return nil
    }

    /// Every argument not read yet, as written: a job's own command line, or the words of a command that
    /// takes nothing but words.
    public mutating func rest() -> [String] {
        defer { index = arguments.count }
        return Array(arguments[index...])
    }

    /// Takes the global options still ahead, wherever they stand before `--`, so that a command whose
    /// arguments are all its own sees only them (`corral ls --all --json` as well as `corral --json ls --all`).
    public mutating func collectGlobals() throws(UsageError) {
        guard !optionsEnded else { return }
        var kept = Array(arguments[..<index])
        var position = index
        while position < arguments.count, arguments[position] != "--" {
            let argument = arguments[position]
            position += 1
            guard Self.isOption(argument) else {
                kept.append(argument)
                continue
            }
            let (name, value) = Self.split(argument)
            if let global = try readGlobal(name, value, at: position) {
                globals[name] = global.value
                position += global.used
            } else {
                kept.append(argument)
            }
        }
        arguments = kept + arguments[position...]
    }

    /// Whether one of `names` is still ahead as an option (before `--`), whatever stands around it: for
    /// `--help`, which asks for help wherever it is.
    public func containsOption(_ names: [String]) -> Bool {
        guard !optionsEnded else { return false }
        return arguments[index...].prefix { $0 != "--" }.contains { names.contains($0) }
    }

    /// A global option's value and how many arguments after `position` it took (its value, when not
    /// attached); nil when `name` is not a global option.
    private func readGlobal(
        _ name: String,
        _ value: String?,
        at position: Int
    ) throws(UsageError) -> (value: String, used: Int)? {
        if globalSwitches.contains(name) {
            guard value == nil else { throw UsageError.unexpectedValue(name) }
            return ("", 0)
        }
        guard globalOptions.contains(name) else { return nil }
        if let value { return (value, 0) }
        guard position < arguments.count else { throw UsageError.missingValue(name) }
        return (arguments[position], 1)
    }

    /// Any word that starts with a dash, as every program read them before they shared this reader: a word
    /// such as `-5` or `-` is refused as an unknown option rather than taken for a job's command. (Values are
    /// not options: `--priority -5` reads `-5` through `value(for:)`.)
    static func isOption(_ argument: String) -> Bool { argument.hasPrefix("-") && argument != "--" }

    /// `--name=value` into its parts; short options are never split (`-e` takes `KEY=VALUE` apart).
    static func split(_ argument: String) -> (name: String, value: String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
