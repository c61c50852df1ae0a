import ClusterWire
import CorralSupport
import Glibc
import LinuxSystem

/// A gang rank's hostfile (`CORRAL_HOSTFILE`), in the format MPI launchers and DeepSpeed read: one line per
/// node, `ADDRESS slots=GPUS`, rank 0's first. It lives in the system's temporary directory under a name no
/// one can guess in advance (mkstemp), owned by the job's account and readable by it alone, because the agent's
/// state directory is closed to jobs; its path is kept in the allocation's record, which removes it.
enum Hostfile {
    static let prefix = "/tmp/corral-hostfile-"

    static func text(_ nodes: [String], slots: Int) -> String {
        nodes.map { "\($0) slots=\(max(slots, 1))\n" }.joined()
    }

    /// Writes the hostfile of a gang rank and returns its path; nil for a job that is no gang's rank, or when
    /// the file cannot be made (the job then runs without `CORRAL_HOSTFILE`, its other variables intact).
    static func write(_ spec: LaunchSpec, account: UnixAccount?) -> String? {
        guard let nodes = spec.gangNodes, !nodes.isEmpty else { return nil }
        var template = Array((prefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let bytes = Array(text(nodes, slots: spec.gpuIndices.count).utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if let account { _ = fchown(fd, account.uid, account.gid) }
        guard written == bytes.count, fchmod(fd, 0o600) == 0 else {
            unlink(path)
            return nil
        }
        return path
    }

    /// Removes a hostfile this agent made (only paths of its own form).
    static func remove(_ path: String) {
        guard path.hasPrefix(prefix), !path.contains("/..") else { return }
        unlink(path)
    }
}
