import CorralSupport

/// sbatch's options as Slurm spells them, and the two places they come from: the command line and the
/// script's `#SBATCH` lines. Reading them is pure: words in, options out, or an error naming the option.
struct SbatchOption: Sendable {
    enum Value: Sendable {
        case none
        case required
        /// Only as `--name=value` (Slurm's optional arguments: `--exclusive`, `--nice`).
        case optional
    }

    let long: String
    let short: Character?
    let value: Value
    /// Why the option does nothing on Corral (a warning); nil for the options Corral maps.
    let ignored: String?

    init(_ long: String, _ short: Character? = nil, _ value: Value = .required, ignored: String? = nil) {
        self.long = long
        self.short = short
        self.value = value
        self.ignored = ignored
    }

    static let mapped: [SbatchOption] = [
        SbatchOption("job-name", "J"), SbatchOption("output", "o"), SbatchOption("error", "e"),
        SbatchOption("chdir", "D"), SbatchOption("partition", "p"), SbatchOption("time", "t"),
        SbatchOption("nodes", "N"), SbatchOption("ntasks", "n"), SbatchOption("ntasks-per-node"),
        SbatchOption("cpus-per-task", "c"), SbatchOption("mem"), SbatchOption("mem-per-cpu"),
        SbatchOption("mem-per-gpu"), SbatchOption("gpus", "G"), SbatchOption("gpus-per-node"),
        SbatchOption("gpus-per-task"), SbatchOption("gres"), SbatchOption("array", "a"),
        SbatchOption("dependency", "d"), SbatchOption("export"), SbatchOption("wrap"),
        SbatchOption("parsable", nil, .none), SbatchOption("signal"), SbatchOption("requeue", nil, .none),
        SbatchOption("no-requeue", nil, .none), SbatchOption("wait", "W", .none), SbatchOption("open-mode"),
        SbatchOption("hold", "H", .none), SbatchOption("quiet", "Q", .none), SbatchOption("priority"),
        SbatchOption("help", "h", .none), SbatchOption("usage", nil, .none), SbatchOption("cpus-per-gpu"),
        SbatchOption("begin", "b"), SbatchOption("test-only", nil, .none), SbatchOption("deadline"),
    ]

    static let noEffect = "has no effect on Corral"
    static let ignoredOptions: [SbatchOption] = [
        SbatchOption("account", "A", ignored: "Corral has no accounts: usage is counted per user"),
        SbatchOption("qos", "q", ignored: "Corral has no QOS: queues and their priority play that part"),
        SbatchOption("mail-type", ignored: "Corral sends no mail"),
        SbatchOption("mail-user", ignored: "Corral sends no mail"),
        SbatchOption("exclusive", nil, .optional, ignored: "a job gets the GPUs, CPUs and memory it asks for"),
        SbatchOption("constraint", "C", ignored: "node features are Corral labels: use a queue's node selector"),
        SbatchOption("wckey", ignored: noEffect), SbatchOption("comment", ignored: noEffect),
        SbatchOption("nice", nil, .optional, ignored: noEffect), SbatchOption("reservation", ignored: noEffect),
        SbatchOption("licenses", "L", ignored: noEffect), SbatchOption("hint", ignored: noEffect),
        SbatchOption("distribution", "m", ignored: noEffect), SbatchOption("mem-bind", ignored: noEffect),
        SbatchOption("gpu-bind", ignored: noEffect), SbatchOption("cpu-freq", ignored: noEffect),
        SbatchOption("get-user-env", nil, .optional, ignored: "the job gets the submitting environment (--export)"),
        SbatchOption("kill-on-invalid-dep", ignored: "a job whose dependency failed always fails"),
        SbatchOption("propagate", nil, .optional, ignored: noEffect),
        SbatchOption("threads-per-core", ignored: noEffect), SbatchOption("cores-per-socket", ignored: noEffect),
        SbatchOption("sockets-per-node", ignored: noEffect), SbatchOption("tmp", ignored: noEffect),
        SbatchOption("time-min", ignored: noEffect), SbatchOption("oversubscribe", "s", .none, ignored: noEffect),
        SbatchOption("spread-job", nil, .none, ignored: noEffect), SbatchOption("switches", ignored: noEffect),
        SbatchOption("profile", ignored: noEffect), SbatchOption("acctg-freq", ignored: noEffect),
        SbatchOption("verbose", "v", .none, ignored: noEffect),
        SbatchOption("no-kill", "k", .optional, ignored: noEffect),
        SbatchOption("uid", ignored: "a job runs as the user of the token that submits it"),
        SbatchOption("gid", ignored: "a job runs as the user of the token that submits it"),
        SbatchOption("nodelist", "w", ignored: "the scheduler picks the nodes (a queue's node selector narrows them)"),
        SbatchOption("exclude", "x", ignored: "the scheduler picks the nodes (drain a node to keep jobs off it)"),
        SbatchOption("input", "i", ignored: "a batch job's standard input is /dev/null"),
        SbatchOption("clusters", "M", ignored: "one controller is one cluster"),
    ]

    static let byLong: [String: SbatchOption] = Dictionary(
        uniqueKeysWithValues: (mapped + ignoredOptions).map { ($0.long, $0) }
    )
    /// The one option whose name starts with `prefix` (getopt_long's abbreviations: `--part=gpu`); nil when
    /// none or several do.
    static func unique(prefix: String) -> SbatchOption? {
        guard prefix.count >= 2 else { return nil }
        let matches = (mapped + ignoredOptions).filter { $0.long.hasPrefix(prefix) }
        return matches.count == 1 ? matches[0] : nil
    }

    static let byShort: [Character: SbatchOption] = Dictionary(
        uniqueKeysWithValues: (mapped + ignoredOptions).compactMap { option in option.short.map { ($0, option) } }
    )
}

/// One option as given: its long name and value.
struct SbatchSetting: Equatable, Sendable {
    let name: String
    let value: String?
}

enum SbatchParser {
    /// Reads options from `words` until the first word that is not one (the script and its arguments, returned
    /// as `rest`) or `--`. An unknown option or a missing value is an error naming it.
    static func options(_ words: [String]) throws(SlurmError) -> (settings: [SbatchSetting], rest: [String]) {
        var settings: [SbatchSetting] = []
        var position = 0
        while position < words.count {
            let word = words[position]
            position += 1
            if word == "--" { return (settings, Array(words[position...])) }
            guard word.hasPrefix("-"), word.count > 1 else { return (settings, Array(words[(position - 1)...])) }
            let option: SbatchOption
            var attached: String?
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                guard let known = SbatchOption.byLong[name] ?? SbatchOption.unique(prefix: name) else {
                    throw SlurmError("unrecognized option '--\(name.prefix(64))'")
                }
                option = known
                if let equals = body.firstIndex(of: "=") { attached = String(body[body.index(after: equals)...]) }
            } else {
                let letter = word[word.index(after: word.startIndex)]
                guard let known = SbatchOption.byShort[letter] else {
                    throw SlurmError("invalid option -- '\(letter)'")
                }
                option = known
                let rest = word.dropFirst(2)
                if !rest.isEmpty {
                    guard option.value == .required else { throw SlurmError("option -\(letter) takes no value") }
                    attached = String(rest)
                }
            }
            switch option.value {
            case .none:
                if attached != nil { throw SlurmError("option '--\(option.long)' takes no value") }
                settings.append(SbatchSetting(name: option.long, value: nil))
            case .optional:
                settings.append(SbatchSetting(name: option.long, value: attached))
            case .required:
                if let attached {
                    settings.append(SbatchSetting(name: option.long, value: attached))
                } else {
                    guard position < words.count else { throw SlurmError("option '--\(option.long)' requires a value") }
                    settings.append(SbatchSetting(name: option.long, value: words[position]))
                    position += 1
                }
            }
        }
        return (settings, [])
    }

    /// The options of the script's `#SBATCH` lines: those before its first command (blank lines and comments
    /// may come first; `# SBATCH` and `##SBATCH` are comments). On a line, a word starting with `#` starts a
    /// comment; quotes group words as in a shell.
    static func directives(_ script: String) throws(SlurmError) -> [SbatchSetting] {
        var settings: [SbatchSetting] = []
        for (number, line) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line).trimmingWhitespace()
            if number == 0 && text.hasPrefix("#!") { continue }
            if text.isEmpty { continue }
            guard text.hasPrefix("#") else { break }
            guard text.hasPrefix("#SBATCH"), text.count == 7 || [" ", "\t"].contains(text.dropFirst(7).first!)
            else { continue }
            let words = try shellWords(String(text.dropFirst(7)), line: number + 1)
            do throws(SlurmError) {
                let (found, rest) = try options(words)
                guard rest.isEmpty else { throw SlurmError("unexpected '\(rest[0].prefix(64))'") }
                settings += found
            } catch {
                throw SlurmError("line \(number + 1) (#SBATCH): \(error.message)")
            }
        }
        return settings
    }

    /// Splits a line into words: spaces separate, single and double quotes group, a backslash escapes the next
    /// character (outside single quotes), and an unquoted `#` starting a word starts a comment.
    static func shellWords(_ text: String, line: Int) throws(SlurmError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else if character == "#" && !inWord {
                break
            } else {
                inWord = true
                if character == "\"" || character == "'" {
                    quote = character
                } else if character == "\\" {
                    escaped = true
                } else {
                    current.append(character)
                }
            }
        }
        if quote != nil { throw SlurmError("line \(line) (#SBATCH): unterminated quote") }
        if inWord { words.append(current) }
        return words
    }
}
