/// `--signal USR1@120` (Slurm's `--signal`): a signal the job gets `seconds` before it is stopped, so it can
/// checkpoint. It comes that long before its time limit, and before the SIGTERM of a preemption (which then
/// waits that long). A cancel is not delayed by it.
public struct JobSignal: Hashable, Sendable, CustomStringConvertible {
    public var number: Int32
    public var seconds: Int

    public init(number: Int32, seconds: Int) {
        self.number = number
        self.seconds = seconds
    }

    /// The signals a job may ask for, by name (Linux numbers).
    static let byName: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "USR1": 10, "USR2": 12, "ALRM": 14, "TERM": 15, "CONT": 18, "URG": 23,
        "WINCH": 28,
    ]
    /// At most an hour, as `kill_grace`: a preemption waits this long before its SIGTERM, and a job must not
    /// make itself unpreemptible for longer.
    public static let maxSeconds = 3_600
    /// Slurm's default lead when none is given.
    public static let defaultSeconds = 60

    /// `USR1@120`, `SIGUSR1@120`, `10@120` or `USR1` (60 s); nil for anything else.
    public static func parse(_ text: String) -> JobSignal? {
        guard text.utf8.count <= 32 else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first, !first.isEmpty else { return nil }
        var name = String(first).uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        let number = byName[name] ?? Int32(name).flatMap { value in byName.values.contains(value) ? value : nil }
        guard let number else { return nil }
        var seconds = defaultSeconds
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 1, value <= maxSeconds else { return nil }
            seconds = value
        }
        return JobSignal(number: number, seconds: seconds)
    }

    public var name: String { Self.byName.first { $0.value == number }?.key ?? "\(number)" }
    public var description: String { "\(name)@\(seconds)" }
}
