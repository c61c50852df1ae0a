internal import Glibc

/// A Unix account as the node's own user database has it (getpwnam_r and getgrouplist go through NSS, so
/// LDAP and SSSD accounts resolve as local ones do).
public struct UnixAccount: Sendable, Hashable, Codable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    /// Every group the account is in, its primary group included, as login would set them.
    public var groups: [UInt32]
    public var home: String
    public var shell: String

    public init(name: String, uid: UInt32, gid: UInt32, groups: [UInt32], home: String, shell: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home
        self.shell = shell
    }

    /// The account named `name`; nil when the user database has none.
    public static func lookup(_ name: String) -> UnixAccount? {
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        while true {
            let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
            if status == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard status == 0, result != nil else { return nil }
            break
        }
        let uid = entry.pw_uid
        let gid = entry.pw_gid
        let home = entry.pw_dir.map { String(cString: $0) } ?? "/"
        let shell = entry.pw_shell.map { String(cString: $0) } ?? "/bin/sh"
        return UnixAccount(name: name, uid: uid, gid: gid, groups: groups(name, gid), home: home, shell: shell)
    }

    private static func groups(_ name: String, _ gid: gid_t) -> [UInt32] {
        var count: Int32 = 64
        while true {
            var list = [gid_t](repeating: 0, count: Int(count))
            var wanted = count
            if getgrouplist(name, gid, &list, &wanted) >= 0 { return Array(list.prefix(Int(wanted))) }
            guard wanted > count, wanted < 1 << 16 else { return [gid] }
            count = wanted
        }
    }
}
