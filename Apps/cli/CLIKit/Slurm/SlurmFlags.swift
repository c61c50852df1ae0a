/// The options of squeue, scancel, sacct, sinfo and scontrol: `--name=value`, `--name value`, `-x value`,
/// `-xvalue`, flags alone. An unknown option is an error naming it; other words are returned in order.
struct SlurmFlags: Sendable {
    struct Spec: Sendable {
        let long: String
        let short: Character?
        let takesValue: Bool
        init(_ long: String, _ short: Character? = nil, value: Bool = false) {
            self.long = long
            self.short = short
            self.takesValue = value
        }
    }

    var values: [String: [String]] = [:]
    var words: [String] = []

    /// In order, as given (srun maps them to sbatch's options).
    var given: [(name: String, value: String)] = []

    /// `stopAtWord`: the first word that is not an option, and everything after it, are `words` (srun's
    /// command and its own options).
    init(_ arguments: [String], specs: [Spec], stopAtWord: Bool = false) throws(SlurmError) {
        var position = 0
        while position < arguments.count {
            let word = arguments[position]
            position += 1
            if stopAtWord && word == "--" {
                words = Array(arguments[position...])
                return
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                if stopAtWord {
                    words = Array(arguments[(position - 1)...])
                    return
                }
                words.append(word)
                continue
            }
            var spec: Spec?
            var attached: String?
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                // getopt_long's abbreviations: a unique prefix names the option.
                let prefixed = name.count >= 2 ? specs.filter { $0.long.hasPrefix(name) } : []
                spec = specs.first { $0.long == name } ?? (prefixed.count == 1 ? prefixed[0] : nil)
                if let equals = body.firstIndex(of: "=") { attached = String(body[body.index(after: equals)...]) }
            } else {
                var letters = Array(word.dropFirst())
                // Flags may be bundled (`-nP`, `-ho FORMAT`): all but the last take no value.
                while letters.count > 1, let flag = specs.first(where: { $0.short == letters[0] }), !flag.takesValue {
                    values[flag.long, default: []].append("")
                    given.append((flag.long, ""))
                    letters.removeFirst()
                }
                spec = specs.first { $0.short == letters[0] }
                if letters.count > 1 { attached = String(letters.dropFirst()) }
            }
            guard let spec else { throw SlurmError("unrecognized option '\(word.prefix(64))'") }
            if spec.takesValue {
                if attached == nil {
                    guard position < arguments.count else {
                        throw SlurmError("option '--\(spec.long)' requires a value")
                    }
                    attached = arguments[position]
                    position += 1
                }
                values[spec.long, default: []].append(attached ?? "")
                given.append((spec.long, attached ?? ""))
            } else {
                guard attached == nil else { throw SlurmError("option '--\(spec.long)' takes no value") }
                values[spec.long, default: []].append("")
                given.append((spec.long, ""))
            }
        }
    }

    func has(_ name: String) -> Bool { values[name] != nil }
    func value(_ name: String) -> String? { values[name]?.last }
    /// Every value given, comma lists split.
    func list(_ name: String) -> [String] {
        (values[name] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
    }
}
