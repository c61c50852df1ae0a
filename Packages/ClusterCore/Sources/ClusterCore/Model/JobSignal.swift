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

    /// The signals a job may ask for (Linux numbers; their names are `SignalName`'s): HUP, INT, QUIT, USR1,
    /// USR2, ALRM, TERM, CONT, URG, WINCH.
    static let allowed: Set<Int32> = [1, 2, 3, 10, 12, 14, 15, 18, 23, 28]
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
        let name = String(first).uppercased()
        guard let number = SignalName.number(name) ?? Int32(name), allowed.contains(number) else { return nil }
        var seconds = defaultSeconds
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 1, value <= maxSeconds else { return nil }
            seconds = value
        }
        return JobSignal(number: number, seconds: seconds)
    }

    /// `USR1`, as `--signal` spells it.
    public var name: String { String(SignalName.name(number).dropFirst(3)) }
    public var description: String { "\(name)@\(seconds)" }
}
