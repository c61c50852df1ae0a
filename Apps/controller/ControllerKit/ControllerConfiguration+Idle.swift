import ClusterCore
import CorralSupport

/// The idle-GPU rule's settings (issue 17): `idle_gpu_threshold` (percent, default 5) and `idle_gpu_window`
/// (seconds, default 1800) in controller.toml; a queue's `idle_cancel_after` (seconds) cancels its idle jobs.
extension ControllerConfiguration {
    /// Reads one of the rule's top-level keys into `idle`; false when `key` is none of them.
    static func idleSetting(
        _ key: String,
        _ value: TOMLValue,
        into idle: inout IdleGPUPolicy,
        path: String
    ) throws(ConfigurationError) -> Bool {
        switch key {
        case "idle_gpu_threshold":
            let percent: Double? =
                switch value {
                case .integer(let number): Double(number)
                case .float(let number): number
                default: nil
                }
            guard let percent, percent >= 0, percent <= 100 else {
                throw ConfigurationError("\(path): idle_gpu_threshold must be a percent from 0 to 100")
            }
            idle.threshold = percent
            return true
        case "idle_gpu_window":
            guard case .integer(let seconds) = value, seconds >= 1, seconds <= 86_400 else {
                throw ConfigurationError("\(path): idle_gpu_window must be a number of seconds (1-86400)")
            }
            idle.window = .seconds(seconds)
            return true
        default:
            return false
        }
    }

    /// The length of a utilization-history bucket: a sixth of the idle window, at most 30 s, and never shorter
    /// than the heartbeat interval (a bucket no heartbeat can fill is no figure).
    public var utilizationBucket: Duration {
        let sixth = Duration.milliseconds(idleGPUs.window.milliseconds / 6)
        return max(heartbeatInterval, min(.seconds(30), sixth))
    }
}
