import CorralSupport

/// Slurm's time formats (`-t/--time`): "minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
/// "days-hours:minutes" and "days-hours:minutes:seconds"; "UNLIMITED", "INFINITE" and 0 mean no limit.
/// Like Slurm, a limit is a whole number of minutes: seconds round up.
enum SlurmTime {
    /// Seconds, nil for no limit; a malformed value is an error naming the option.
    static func seconds(_ text: String, option: String = "--time") throws(SlurmError) -> Int?? {
        let trimmed = text.trimmingWhitespace()
        if ["unlimited", "infinite"].contains(trimmed.lowercased()) { return .some(nil) }
        func fail() -> SlurmError {
            SlurmError(
                "\(option)=\(text): expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (or UNLIMITED)"
            )
        }
        let dayParts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { throw fail() }
        func number(_ part: Substring) throws(SlurmError) -> Int {
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part)
            else { throw fail() }
            return value
        }
        let clock = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false)
        var total: Int
        if dayParts.count == 2 {
            // days-hours[:minutes[:seconds]]
            guard clock.count <= 3 else { throw fail() }
            total = try number(dayParts[0]) * 86_400 + number(clock[0]) * 3600
            if clock.count > 1 { total += try number(clock[1]) * 60 }
            if clock.count > 2 { total += try number(clock[2]) }
        } else {
            switch clock.count {
            case 1: total = try number(clock[0]) * 60
            case 2: total = try number(clock[0]) * 60 + number(clock[1])
            case 3: total = try number(clock[0]) * 3600 + number(clock[1]) * 60 + number(clock[2])
            default: throw fail()
            }
        }
        // Slurm counts limits in whole minutes: seconds round up (0:45 is a minute).
        total = (total + 59) / 60 * 60
        return .some(total == 0 ? nil : total)
    }

    /// As squeue's TIME and sacct's Elapsed print a duration: `M:SS`, `H:MM:SS`, `D-HH:MM:SS` (`padded`:
    /// always at least `HH:MM:SS`, as sacct does).
    static func format(_ seconds: Int, padded: Bool = false) -> String {
        let value = max(0, seconds)
        let (days, hours, minutes, rest) = (value / 86_400, value / 3600 % 24, value / 60 % 60, value % 60)
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        if days > 0 { return "\(days)-\(two(hours)):\(two(minutes)):\(two(rest))" }
        if hours > 0 || padded { return "\(padded ? two(hours) : String(hours)):\(two(minutes)):\(two(rest))" }
        return "\(minutes):\(two(rest))"
    }
}

/// A mistake in a Slurm command's input: printed as Slurm prints its own, exit code 1 (sbatch: "error: ...").
struct SlurmError: Error, Equatable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
