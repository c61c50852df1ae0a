/// `--name value` flags of one subcommand, checked against the names it knows.
struct BenchArguments: Sendable {
    private var values: [String: String] = [:]
    var positional: [String] = []

    init(_ arguments: [String], known: Set<String>) throws(BenchError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else {
                positional.append(argument)
                index += 1
                continue
            }
            let name = String(argument.dropFirst(2))
            guard known.contains(name) else { throw BenchError("unknown option '\(argument)'") }
            guard index + 1 < arguments.count else { throw BenchError("\(argument) needs a value") }
            values[name] = arguments[index + 1]
            index += 2
        }
    }

    func string(_ name: String, default value: String? = nil) throws(BenchError) -> String {
        guard let text = values[name] ?? value else { throw BenchError("--\(name) is required") }
        return text
    }

    func int(_ name: String, default value: Int) throws(BenchError) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), number >= 0 else { throw BenchError("--\(name) must be a whole number") }
        return number
    }

    func double(_ name: String, default value: Double) throws(BenchError) -> Double {
        guard let text = values[name] else { return value }
        guard let number = Double(text), number >= 0 else { throw BenchError("--\(name) must be a number") }
        return number
    }

    func optionalInt32(_ name: String) throws(BenchError) -> Int32? {
        guard let text = values[name] else { return nil }
        guard let number = Int32(text) else { throw BenchError("--\(name) must be a process id") }
        return number
    }
}

public struct BenchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
