import Foundation
import Glibc

/// A small tmpfs a test mounts for itself (a full disk on demand), for the tests that need root and the right
/// to mount (a container without CAP_SYS_ADMIN has not): they are enabled by `canMount`.
public enum Tmpfs {
    /// Root, and allowed to mount: tried once, on a directory of its own.
    public static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("corral-mount-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard mount(at: probe, size: "1m") else { return false }
        return unmount(probe)
    }()

    /// Mounts a tmpfs of `size` (`1m`, `3m`) at the directory, which must exist.
    public static func mount(at directory: String, size: String) -> Bool {
        sh("mount -t tmpfs -o size=\(size),mode=0700 corral-test-tmpfs '\(directory)'") == 0
    }

    /// Unmounts it (lazily: a process still in it does not keep the mount).
    @discardableResult
    public static func unmount(_ directory: String) -> Bool { sh("umount -l '\(directory)'") == 0 }

    /// Runs a shell command to its end; its wait status (0: success). `runShell`: not Foundation's `Process`, whose
    /// wait once hung a CI run on a thread of the cooperative pool.
    @discardableResult
    public static func sh(_ command: String) -> Int32 { runShell(command) }
}
