import CorralSupport

extension AgentConfiguration {
    /// `[isolation]`: `cgroup_parent` (a relative cgroup path, default "corral"), `allow_uncontained`
    /// (true/false) and `device_dir` (an absolute path, default /dev).
    mutating func applyIsolation(_ value: TOMLValue, path: String) throws(ConfigurationFailure) {
        guard case .table(let table) = value else {
            throw ConfigurationFailure("\(path): [isolation] must be a table with cgroup_parent, allow_uncontained")
        }
        for key in table.keys {
            switch (key, table[key]) {
            case ("cgroup_parent", .string(let text)?):
                guard Self.isCgroupPath(text) else {
                    throw ConfigurationFailure(
                        "\(path): [isolation] cgroup_parent must be a relative path of letters, digits, '.', '_', '-'"
                    )
                }
                cgroupParent = text
            case ("allow_uncontained", .boolean(let flag)?): allowUncontained = flag
            case ("device_dir", .string(let text)?) where text.hasPrefix("/"): deviceDir = text
            default: throw ConfigurationFailure("\(path): [isolation] \(key) is unknown or has a bad value")
            }
        }
    }

    /// Segments of letters, digits, '.', '_', '-' joined by '/', none of them "." or "..": it stays below the
    /// agent's own cgroup.
    static func isCgroupPath(_ text: String) -> Bool {
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        guard !text.isEmpty, text.utf8.count <= 200 else { return false }
        return segments.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.utf8.allSatisfy { byte in
                    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                }
        }
    }

    func renderIsolation() -> TOMLTable? {
        guard cgroupParent != "corral" || allowUncontained || deviceDir != "/dev" else { return nil }
        var table = TOMLTable()
        if cgroupParent != "corral" { table.set("cgroup_parent", .string(cgroupParent)) }
        if allowUncontained { table.set("allow_uncontained", .boolean(true)) }
        if deviceDir != "/dev" { table.set("device_dir", .string(deviceDir)) }
        return table
    }
}
