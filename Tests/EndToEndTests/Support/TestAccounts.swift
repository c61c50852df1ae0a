import Foundation
import Glibc
import LinuxSystem

/// Real Unix accounts for a test (as root: `useradd`), with names of their own, removed (`userdel`) when the
/// test's scope ends, whether it passed or not.
final class TestAccounts: @unchecked Sendable {
    // @unchecked Sendable: one test owns it.
    private(set) var names: [String] = []

    /// A new account `ct<role><6 hex>` with a shell, no home directory made, a group of its own.
    func make(_ role: String) throws -> UnixAccount {
        let name = "ct\(role.prefix(8))\(UUID().uuidString.prefix(6).lowercased())"
        let result = try TestCluster.runBlocking(
            "/usr/sbin/useradd",
            ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", "--user-group", name],
            ProcessInfo.processInfo.environment
        )
        guard result.status == 0, let account = UnixAccount.lookup(name) else {
            throw TestFailure("useradd \(name) failed: \(result.stderr)")
        }
        names.append(name)
        return account
    }

    deinit {
        for name in names {
            _ = try? TestCluster.runBlocking("/usr/sbin/userdel", [name], ProcessInfo.processInfo.environment)
        }
    }
}

/// A directory owned by `account`, mode 0700 (or `mode`).
func makeDirectory(_ path: String, owner account: UnixAccount, mode: mode_t = 0o700) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    chown(path, account.uid, account.gid)
    chmod(path, mode)
}
