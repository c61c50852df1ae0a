/// Where this machine's cgroup hierarchies are and which controllers each offers: a unified (v2) hierarchy
/// (at /sys/fs/cgroup, or at /sys/fs/cgroup/unified in the hybrid layout), v1 hierarchies for the
/// controllers v2 does not have, and the caller's own cgroup in each. Parsed from /proc/self/mountinfo and
/// /proc/self/cgroup, so the parsing is tested on text.
public struct CgroupLayout: Sendable, Hashable, Codable {
    /// The v2 mount point, if any.
    public var unified: String?
    /// The controllers the v2 root offers (`cgroup.controllers`): empty in the hybrid layout, where v1 has them.
    public var unifiedControllers: [String]
    /// v1 controller name (memory, cpu, cpuacct, freezer, pids, devices) to its mount point.
    public var v1: [String: String]
    /// The caller's own cgroup: "" for v2, else the v1 controller name, to the path inside that hierarchy.
    public var own: [String: String]

    public init(unified: String?, unifiedControllers: [String], v1: [String: String], own: [String: String]) {
        self.unified = unified
        self.unifiedControllers = unifiedControllers
        self.v1 = v1
        self.own = own
    }

    /// The layout of this machine, as this process sees it.
    public static func detect() -> CgroupLayout {
        var layout = parse(
            mountinfo: FileText.read("/proc/self/mountinfo") ?? "",
            selfCgroup: FileText.read("/proc/self/cgroup") ?? ""
        )
        if let unified = layout.unified {
            layout.unifiedControllers = (FileText.read(unified + "/cgroup.controllers") ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init)
        }
        return layout
    }

    /// From /proc/self/mountinfo ("36 35 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory") and
    /// /proc/self/cgroup ("4:memory:/a/b", "0::/c").
    public static func parse(mountinfo: String, selfCgroup: String) -> CgroupLayout {
        var unified: String?
        var v1: [String: String] = [:]
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let before = halves[0].split(separator: " ")
            let after = halves[1].split(separator: " ")
            // A cgroup mounted from a sub-path (a container's view) is not the hierarchy's root; skip it.
            guard before.count >= 5, after.count >= 3, before[3] == "/" else { continue }
            let mountPoint = unescape(String(before[4]))
            switch after[0] {
            case "cgroup2": if unified == nil { unified = mountPoint }
            case "cgroup":
                for option in after[2].split(separator: ",") {
                    let name = String(option)
                    if ["memory", "cpu", "cpuacct", "freezer", "pids", "devices"].contains(name), v1[name] == nil {
                        v1[name] = mountPoint
                    }
                }
            default: continue
            }
        }
        var own: [String: String] = [:]
        for line in selfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[0] == "0" && parts[1].isEmpty {
                own[""] = path
            } else {
                for controller in parts[1].split(separator: ",") { own[String(controller)] = path }
            }
        }
        return CgroupLayout(unified: unified, unifiedControllers: [], v1: v1, own: own)
    }

    /// Where a controller lives: in v2 when the v2 root offers it, else in its v1 hierarchy.
    public func hierarchy(for controller: String) -> (mount: String, own: String, unified: Bool)? {
        if let unified, unifiedControllers.contains(controller) { return (unified, own[""] ?? "/", true) }
        if let mount = v1[controller] { return (mount, own[controller] ?? "/", false) }
        return nil
    }

    /// In words, for `preflight` and `corral nodes`: "cgroup v2", "cgroup v2 (+ v1 memory, cpu)", "cgroup v1".
    public var summary: String {
        let fromV1 = ["memory", "cpu"].filter { !unifiedControllers.contains($0) && v1[$0] != nil }
        if unified != nil {
            return fromV1.isEmpty ? "cgroup v2" : "cgroup v2 (+ v1 \(fromV1.joined(separator: ", ")))"
        }
        return v1.isEmpty ? "none" : "cgroup v1"
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
