import ClusterCore
import ClusterStore
import CorralSupport

extension ControllerConfiguration {
    /// `--database`, `--database-password-file`, `--leader-lease`, `--advertise-url` (and their settings in the
    /// config file, where a URL may hold its password: the file is the operator's to protect).
    mutating func applyDatabaseFlags(
        _ flags: [String: String],
        seconds: (String) throws(ConfigurationError) -> Duration?
    ) throws(ConfigurationError) {
        if let url = flags["--database"] {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ConfigurationError("--database takes a postgres:// URL, not '\(PGSettings(url: url).redacted)'")
            }
            database = url
        }
        if let file = flags["--database-password-file"] { databasePasswordFile = file }
        if let lease = try seconds("--leader-lease") {
            guard lease >= .seconds(1), lease <= .seconds(300) else {
                throw ConfigurationError("--leader-lease takes between 1 and 300 seconds")
            }
            leaderLease = lease
        }
        if let url = flags["--advertise-url"] {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: \.isWhitespace) else {
                throw ConfigurationError("--advertise-url takes an http(s):// URL, not '\(url)'")
            }
            advertiseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if database == nil && (databasePasswordFile != nil || flags["--leader-lease"] != nil) {
            throw ConfigurationError("--database-password-file and --leader-lease go with --database")
        }
    }

    /// How to reach PostgreSQL, with the password read from its file now; nil on SQLite.
    func postgresSettings() throws -> PGSettings? {
        guard let database else { return nil }
        var settings = PGSettings(url: database)
        if let file = databasePasswordFile {
            settings.password = try Files.readSecret(file).trimmingWhitespace()
        }
        return settings
    }

    /// The URL this controller is reached at, as standbys tell clients.
    var advertisedURL: String {
        advertiseURL ?? "\(tlsEnabled ? "https" : "http")://\(host):\(port)"
    }
}
