import ClusterCore

/// How to reach PostgreSQL: a `postgres://` URL (or a libpq key=value string) and the password, which never
/// travels in the URL (a process's arguments are public: `corral-controller --database` refuses one there).
public struct PGSettings: Sendable, Equatable {
    public var url: String
    /// From `database_password_file` or `PGPASSWORD` (libpq also reads `~/.pgpass` itself when this is nil).
    public var password: String?
    /// Shown in `pg_stat_activity`.
    public var applicationName = "corral-controller"
    /// How long a connection attempt may take, in seconds (libpq's `connect_timeout`).
    public var connectTimeoutSeconds = 5
    /// How long the server lets a session sit idle inside a transaction before it ends the session and rolls the
    /// transaction back: a controller paused mid-transaction (SIGSTOP, a frozen machine) must not hold the
    /// leadership row's lock past a takeover. Nil leaves the server's setting.
    public var idleInTransactionTimeout: Duration? = .seconds(5)
    /// How long a statement may wait for a row lock before it fails (nil: the server's setting).
    public var lockTimeout: Duration? = .seconds(10)

    public init(url: String, password: String? = nil) {
        self.url = url
        self.password = password
    }

    /// libpq's connection keywords and values; `dbname` first, so that the URL it holds is expanded and the
    /// others override what it says. TCP keepalives and a user timeout make a server that vanished (its machine
    /// gone, a partition) an error within seconds instead of a statement that waits for ever.
    var parameters: [(String, String)] {
        var list = [("dbname", url)]
        if let password { list.append(("password", password)) }
        list += [
            ("application_name", applicationName), ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"), ("keepalives_count", "3"),
            ("tcp_user_timeout", "15000"),
        ]
        return list
    }

    /// The session settings each new connection runs (after a reconnect too).
    var sessionSQL: [String] {
        var list = ["SET TIME ZONE 'UTC'"]
        if let timeout = idleInTransactionTimeout {
            list.append("SET idle_in_transaction_session_timeout = \(timeout.milliseconds)")
        }
        if let timeout = lockTimeout { list.append("SET lock_timeout = \(timeout.milliseconds)") }
        return list
    }

    /// The URL with any password in it masked, for messages.
    public var redacted: String {
        let characters = Array(url)
        guard
            let scheme = (0..<max(characters.count - 2, 0)).first(where: { String(characters[$0..<$0 + 3]) == "://" }),
            let at = characters[(scheme + 3)...].firstIndex(of: "@"),
            let colon = characters[(scheme + 3)..<at].firstIndex(of: ":")
        else { return url }
        return String(characters[..<colon]) + ":***" + String(characters[at...])
    }

    /// Whether the URL itself carries a password (`postgres://user:secret@host/db` or `password=` in a key=value
    /// string): `corral-controller` refuses it on the command line.
    public var urlHasPassword: Bool {
        redacted != url || url.lowercased().contains("password=")
    }
}
