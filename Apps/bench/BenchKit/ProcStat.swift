import CorralSupport
import Glibc

/// CPU time and memory of a process, from /proc (Linux).
public enum ProcStat {
    /// User plus system CPU time of `pid` in seconds, from /proc/PID/stat (fields 14 and 15, in clock ticks).
    public static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? Files.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory of `pid` in KiB (VmRSS of /proc/PID/status).
    public static func rssKiB(_ pid: Int32) -> Int? {
        guard let text = try? Files.read("/proc/\(pid)/status", limit: 16384) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// CPU time the whole machine has spent busy since boot, in seconds: every core's user, nice, system, irq,
    /// softirq and steal time (the first line of /proc/stat, in clock ticks); nil where it cannot be read.
    public static func machineBusySeconds() -> Double? {
        // Its interrupt lines grow with the cores and devices: a bound that any host's fits in.
        guard let text = try? Files.read("/proc/stat", limit: 16 << 20),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// How many cores a process used between two samples of its CPU time taken `elapsed` seconds apart.
    public static func cores(from start: Double?, to end: Double?, elapsed: Double) -> Double? {
        guard let start, let end, elapsed > 0 else { return nil }
        return (end - start) / elapsed
    }
}
