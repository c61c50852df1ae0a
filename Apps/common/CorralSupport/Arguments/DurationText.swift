/// Durations as people type them on command lines and in spec files: "3600", "90s", "30m", "2h", "1d".
public enum DurationText {
    /// Whole seconds, or nil for anything else, zero, negative, or too large for an `Int` (a huge count of
    /// days must be refused, not trap).
    public static func seconds(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, unit) = units[last].map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let value = Int(digits), value > 0 else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : seconds
    }
}
