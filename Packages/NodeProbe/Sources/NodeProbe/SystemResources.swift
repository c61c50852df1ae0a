/// Pure parsers for `/proc` and cgroup files. Each takes the file's text and returns nil for "no limit",
/// missing, malformed or absurd input (negative, zero, overflowing): a limit we cannot read is treated as
/// no limit, and the smaller of the other sources wins.
public enum SystemResources {
    /// `MemTotal:  131981020 kB` in `/proc/meminfo`, in bytes.
    public static func parseMeminfoTotalBytes(_ meminfo: String) -> Int64? {
        for line in meminfo.split(whereSeparator: \.isNewline) where line.hasPrefix("MemTotal:") {
            let words = line.dropFirst("MemTotal:".count).split(whereSeparator: \.isWhitespace)
            guard let first = words.first, let value = positive(first) else { return nil }
            let unit = words.count > 1 ? words[1].lowercased() : ""
            let multiplier: Int64
            switch unit {
            case "": multiplier = 1
            case "kb": multiplier = 1024
            case "mb": multiplier = 1024 * 1024
            case "gb": multiplier = 1024 * 1024 * 1024
            default: return nil
            }
            let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : bytes
        }
        return nil
    }

    /// cgroup v2 `cpu.max`: `"200000 100000"` is 2.0 CPUs; `"max 100000"` is nil (no limit).
    /// A quota without a period uses the kernel's default period, 100000 µs.
    public static func parseCgroupV2CPUMax(_ text: String) -> Double? {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 1 || words.count == 2, words[0] != "max", let quota = positive(words[0]) else {
            return nil
        }
        let period = words.count == 2 ? positive(words[1]) : 100_000
        guard let period else { return nil }
        return Double(quota) / Double(period)
    }

    /// cgroup v2 `memory.max` in bytes; `"max"` is nil.
    public static func parseCgroupV2MemoryMax(_ text: String) -> Int64? {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 1, words[0] != "max" else { return nil }
        return positive(words[0])
    }

    /// cgroup v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`; a quota of `-1` is nil (no limit).
    public static func parseCgroupV1CPU(quota: String, period: String) -> Double? {
        let quotaWords = quota.split(whereSeparator: \.isWhitespace)
        let periodWords = period.split(whereSeparator: \.isWhitespace)
        guard quotaWords.count == 1, periodWords.count == 1,
            let quota = positive(quotaWords[0]), let period = positive(periodWords[0])
        else { return nil }
        return Double(quota) / Double(period)
    }

    /// cgroup v1 `memory.limit_in_bytes`. "Unlimited" is a huge number there (9223372036854771712, the
    /// largest page-aligned Int64): anything at or above 2^62, or too large for Int64, is nil.
    public static func parseCgroupV1MemoryLimit(_ text: String) -> Int64? {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 1, let value = positive(words[0]), value < (1 << 62) else { return nil }
        return value
    }

    /// How many CPUs a Linux CPU list names: `"0-3,8-11"` is 8, `"5"` is 1 (`cpuset.cpus.effective`,
    /// `/sys/devices/system/cpu/online`). Overlaps count once; malformed or empty lists are nil.
    public static func parseCPUList(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { return nil }
        var ranges: [ClosedRange<Int>] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                let low = cpuNumber(bounds[0]), let high = cpuNumber(bounds[bounds.count - 1]), low <= high
            else { return nil }
            ranges.append(low...high)
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var count = 0
        var covered = -1  // highest CPU number counted so far
        for range in ranges where range.upperBound > covered {
            count += range.upperBound - max(range.lowerBound, covered + 1) + 1
            covered = range.upperBound
        }
        return count
    }

    // MARK: - Helpers

    /// A strictly positive decimal Int64 (digits only, no sign, no overflow).
    static func positive(_ word: Substring) -> Int64? {
        guard !word.isEmpty, word.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(word), value > 0
        else { return nil }
        return value
    }

    /// CPU numbers are small: Linux supports at most 8192 (NR_CPUS); allow some headroom.
    private static func cpuNumber(_ word: Substring) -> Int? {
        let word = word.trimmingSpaces()
        guard !word.isEmpty, word.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(word), value < 1 << 20
        else { return nil }
        return value
    }
}
