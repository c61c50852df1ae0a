import CorralSupport

/// `--name value` flags of one subcommand, checked against the names it knows, and its words (`figure`'s
/// values). Read with the shared `ArgumentReader`; the typed getters apply the defaults.
struct BenchArguments: Sendable {
    private var values: [String: String] = [:]
    var positional: [String] = []

    init(_ arguments: [String], known: Set<String>) throws(UsageError) {
        var reader = ArgumentReader(arguments)
        while let argument = try reader.next() {
            switch argument {
            case .positional(let word): positional.append(word)
            case .option(let flag) where flag.hasPrefix("--") && known.contains(String(flag.dropFirst(2))):
                values[String(flag.dropFirst(2))] = try reader.value(for: flag)
            case .option(let flag): throw UsageError.unknownOption(flag)
            }
        }
    }

    func string(_ name: String, default value: String? = nil) throws(UsageError) -> String {
        guard let text = values[name] ?? value else { throw UsageError("--\(name) is required") }
        return text
    }

    func int(_ name: String, default value: Int) throws(UsageError) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), number >= 0 else {
            throw UsageError("--\(name) must be a whole number", code: .malformedValue)
        }
        return number
    }

    func double(_ name: String, default value: Double) throws(UsageError) -> Double {
        guard let text = values[name] else { return value }
        guard let number = Double(text), number >= 0 else {
            throw UsageError("--\(name) must be a number", code: .malformedValue)
        }
        return number
    }

    func optionalInt32(_ name: String) throws(UsageError) -> Int32? {
        guard let text = values[name] else { return nil }
        guard let number = Int32(text) else {
            throw UsageError("--\(name) must be a process id", code: .malformedValue)
        }
        return number
    }
}

/// A benchmark that could not run to the end (a refused registration, jobs that never finished). Mistakes on
/// the command line are `UsageError`s instead.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
