import ClusterCore

/// Which Unix account a user's jobs run as on the nodes, decided at submission: the account the user's token
/// names (`corral tokens create --unix-user`), else the `[accounts.map]` entry of controller.toml, else
/// `[accounts] default`, else the account of the user's own name. An account named root is refused unless
/// the user is in `[accounts] root_users` ("*" there: everyone, for a single trusted team).
public struct AccountPolicy: Sendable, Hashable {
    public var map: [String: String] = [:]
    public var defaultAccount: String?
    public var rootUsers: Set<String> = []

    public init(map: [String: String] = [:], defaultAccount: String? = nil, rootUsers: Set<String> = []) {
        self.map = map
        self.defaultAccount = defaultAccount
        self.rootUsers = rootUsers
    }

    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        case invalidName(String)
        case rootNotAllowed(user: String)

        public var description: String {
            switch self {
            case .invalidName(let name):
                "'\(name.prefix(64))' is not a valid Unix account name (\(UnixAccountName.rule))"
            case .rootNotAllowed(let user):
                "jobs of \(user) would run as root, which this controller does not allow "
                    + "(an admin can add \(user) to [accounts] root_users in controller.toml)"
            }
        }
    }

    /// The account for `user`, whose token names `tokenAccount` (if it does).
    public func account(for user: String, tokenAccount: String?) throws(Refusal) -> String {
        let account = tokenAccount ?? map[user] ?? defaultAccount ?? user
        try check(account, for: user)
        return account
    }

    /// Refuses a name that is not an account name, and root for a user not allowed it.
    public func check(_ account: String, for user: String) throws(Refusal) {
        guard UnixAccountName.isValid(account) else { throw .invalidName(account) }
        if account == "root" && !rootUsers.contains(user) && !rootUsers.contains("*") {
            throw .rootNotAllowed(user: user)
        }
    }
}
