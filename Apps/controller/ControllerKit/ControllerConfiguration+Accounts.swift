import ClusterCore
import CorralSupport

extension ControllerConfiguration {
    /// `[accounts]`: `default` (the account for users with no mapping; unset: the user's own name),
    /// `root_users` (users whose jobs may run as root; "*" for everyone) and `[accounts.map]` (user = account).
    static func accounts(from value: TOMLValue, path: String) throws(ConfigurationError) -> AccountPolicy {
        guard case .table(let table) = value else {
            throw ConfigurationError("\(path): accounts must be a table: [accounts]")
        }
        var policy = AccountPolicy()
        for key in table.keys {
            switch (key, table[key]) {
            case ("default", .string(let name)?):
                guard UnixAccountName.isValid(name) else {
                    throw ConfigurationError("\(path): accounts.default: '\(name)' is not a Unix account name")
                }
                policy.defaultAccount = name
            case ("root_users", .array(let users)?):
                for user in users {
                    guard case .string(let name) = user, name == "*" || JobSpec.isSimpleName(name) else {
                        throw ConfigurationError("\(path): accounts.root_users must list user names or \"*\"")
                    }
                    policy.rootUsers.insert(name)
                }
            case ("map", .table(let map)?):
                for user in map.keys {
                    guard JobSpec.isSimpleName(user), case .string(let account) = map[user],
                        UnixAccountName.isValid(account)
                    else {
                        throw ConfigurationError(
                            "\(path): accounts.map.\(user) must map a user name to a Unix account name "
                                + "(\(UnixAccountName.rule))"
                        )
                    }
                    policy.map[user] = account
                }
            default:
                throw ConfigurationError("\(path): accounts.\(key) is unknown or has a bad value")
            }
        }
        return policy
    }

    mutating func applyAccountFlags(_ flags: [String: String]) throws(ConfigurationError) {
        if let name = flags["--default-unix-user"] {
            guard UnixAccountName.isValid(name) else {
                throw ConfigurationError("--default-unix-user: '\(name)' is not a Unix account name")
            }
            accounts.defaultAccount = name
        }
        if let list = flags["--root-users"] {
            for name in list.split(separator: ",").map(String.init) {
                guard name == "*" || JobSpec.isSimpleName(name) else {
                    throw ConfigurationError("--root-users takes user names separated by commas, or *")
                }
                accounts.rootUsers.insert(name)
            }
        }
    }
}
