/// Slurm's host lists: `a,b`, `gpu[01-03,07]`, `n[1-2]-ib`, as `scontrol show hostnames` expands them
/// (Corral's own lists are plain comma-separated names or addresses).
enum SlurmHostList {
    static let maxHosts = 100_000

    static func expand(_ list: String) throws(SlurmError) -> [String] {
        var hosts: [String] = []
        var item = ""
        var depth = 0
        func flush() throws(SlurmError) {
            if !item.isEmpty { hosts += try expandOne(item) }
            item = ""
        }
        for character in list {
            if character == "[" { depth += 1 }
            if character == "]" { depth -= 1 }
            guard depth >= 0, depth <= 1 else { throw SlurmError("invalid host list '\(list.prefix(64))'") }
            if character == ",", depth == 0 { try flush() } else { item.append(character) }
        }
        guard depth == 0 else { throw SlurmError("invalid host list '\(list.prefix(64))'") }
        try flush()
        guard hosts.count <= maxHosts else { throw SlurmError("host list too long") }
        return hosts
    }

    /// One `prefix[ranges]suffix` item (one bracket group).
    static func expandOne(_ item: String) throws(SlurmError) -> [String] {
        guard let open = item.firstIndex(of: "["), let close = item.firstIndex(of: "]"), open < close else {
            return [item]
        }
        let prefix = item[..<open]
        let suffix = item[item.index(after: close)...]
        guard !suffix.contains("[") else { throw SlurmError("one bracket group per host name: '\(item.prefix(64))'") }
        var hosts: [String] = []
        for range in item[item.index(after: open)..<close].split(separator: ",") {
            let ends = range.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let low = Int(ends[0]), let high = Int(ends.last!), low <= high,
                high - low < maxHosts, ends.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) })
            else { throw SlurmError("invalid range '\(range.prefix(32))' in '\(item.prefix(64))'") }
            let width = ends[0].count
            for number in low...high {
                let digits = String(number)
                hosts.append(prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix)
            }
        }
        return hosts
    }
}
