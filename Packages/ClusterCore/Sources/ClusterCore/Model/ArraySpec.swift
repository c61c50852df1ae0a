/// A job array as users write it, Slurm's way: `0-99`, `1,5,7`, `0-20:5` (a step), combined with commas, and
/// `%8` at the end to run at most 8 tasks at once.
public struct ArraySpec: Hashable, Sendable {
    /// Task indices, ascending, each once.
    public let indices: [Int]
    public let limit: Int?

    public static let maxTasks = 10_000
    public static let maxIndex = 9_999_999

    public init(indices: [Int], limit: Int?) {
        self.indices = indices
        self.limit = limit
    }

    public static func parse(_ text: String) throws(SpecError) -> ArraySpec {
        func refuse(_ why: String) -> SpecError {
            SpecError(field: "array", message: "\(why) (e.g. 0-99, 1,5,7, 0-20:5, 0-99%8)")
        }
        guard !text.isEmpty, text.utf8.count <= 4096 else { throw refuse("must be 1-4096 characters") }
        var body = Substring(text)
        var limit: Int?
        if let percent = body.firstIndex(of: "%") {
            guard let value = number(body[body.index(after: percent)...]), value >= 1 else {
                throw refuse("'%' must be followed by the most tasks to run at once, at least 1")
            }
            limit = value
            body = body[..<percent]
        }
        var seen = Set<Int>()
        for item in body.split(separator: ",", omittingEmptySubsequences: false) {
            var range = item
            var step = 1
            if let colon = range.firstIndex(of: ":") {
                guard let value = number(range[range.index(after: colon)...]), value >= 1 else {
                    throw refuse("a step after ':' must be a whole number of at least 1")
                }
                step = value
                range = range[..<colon]
            }
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let first = number(bounds[0]),
                let last = bounds.count == 2 ? number(bounds[1]) : first
            else { throw refuse("'\(item.prefix(32))' is not an index or a range of indices") }
            guard first <= last else { throw refuse("'\(item.prefix(32))' runs backwards") }
            guard last <= maxIndex else { throw refuse("indices go up to \(maxIndex)") }
            var index = first
            while index <= last {
                seen.insert(index)
                guard seen.count <= maxTasks else { throw refuse("more than \(maxTasks) tasks") }
                index += step
            }
        }
        return ArraySpec(indices: seen.sorted(), limit: limit)
    }

    /// A canonical decimal of at most 9 digits.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
