internal import CLinuxShims
internal import Glibc

/// CLOCK_MONOTONIC in nanoseconds: wall-clock steps do not move it, and every process of the machine shares
/// it, so a value one process writes (the agent's lease file) means the same to another (a job's supervisor).
public enum Monotonic {
    public static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
