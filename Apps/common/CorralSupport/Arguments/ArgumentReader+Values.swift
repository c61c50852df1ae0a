/// Typed option values. A value that does not convert is refused with the option, what it takes, and the text
/// as given ("--gpus takes a whole number, got 'two'"), in every program alike.
extension ArgumentReader {
    /// The option's value converted by `convert`; `expected` says what it takes ("a size such as 32G").
    /// Assigning the result to an optional, spell `Value` out (`let seconds: Int = ...`): inferred as the
    /// optional itself, it would accept every text.
    public mutating func value<Value>(
        for option: String,
        expecting expected: String,
        _ convert: (String) -> Value?
    ) throws(UsageError) -> Value {
        let text = try value(for: option)
        guard let converted = convert(text) else {
            throw UsageError.malformedValue(option, expected: expected, got: text)
        }
        return converted
    }

    /// A whole number, within `range` when one is given (the message then names the range).
    public mutating func integer(for option: String, in range: ClosedRange<Int>? = nil) throws(UsageError) -> Int {
        let expected = "a whole number" + (range.map { " from \($0.lowerBound) to \($0.upperBound)" } ?? "")
        return try value(for: option, expecting: expected) { text in
            guard let number = Int(text), range?.contains(number) ?? true else { return nil }
            return number
        }
    }

    /// A duration in whole seconds ("3600", "90s", "30m", "2h", "1d"); `expected` lists the forms the
    /// option's help shows.
    public mutating func seconds(
        for option: String,
        expecting expected: String = "seconds or 90s, 30m, 2h, 1d"
    ) throws(UsageError) -> Int {
        try value(for: option, expecting: expected, DurationText.seconds)
    }

    /// `KEY=VALUE` with a non-empty key; the value may be empty and may itself hold `=`.
    public mutating func keyValue(for option: String) throws(UsageError) -> (key: String, value: String) {
        try value(for: option, expecting: "KEY=VALUE") { text in
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }
}
