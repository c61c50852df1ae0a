// A real PostgreSQL server for the tests that need one (issue 19), from Debian's `postgresql` package: one per
// test process, started on first use in a temporary directory, on a private port on 127.0.0.1, with password
// authentication (scram-sha-256) for TCP. As root, it runs as an unprivileged account made for it (`useradd`);
// otherwise as the current user. Each test gets a database of its own (`makeDatabase`).
//
// A watchdog shell started with the server stops it, removes its directory and its account once the test
// process is gone, however it ended (a crash or a kill -9 included), so nothing outlives the run by more than
// about a second.
import Foundation
import Glibc
import Synchronization

public final class TestPostgres: @unchecked Sendable {
    public static let user = "corral"
    public let port: Int
    public let password: String
    /// The server's directory: `data/`, `socket/` and `server.log`.
    public let directory: String
    /// The account the server runs as (nil: the current user).
    public let account: String?
    let bin: String
    private let lock = NSLock()
    private var databases = 0

    private static let sharedLock = NSLock()
    /// Servers this process made, for names of their own.
    private static let made = Atomic<Int>(0)
    nonisolated(unsafe) private static var sharedServer: TestPostgres?

    /// The process's server, started on first use.
    public static func shared() throws -> TestPostgres {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let server = sharedServer { return server }
        let server = try TestPostgres()
        sharedServer = server
        return server
    }

    /// Whether this machine has the server's binaries (`just qa` installs them).
    public static var isInstalled: Bool { binDirectory() != nil }

    static func binDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "\(root)/\($0)/bin" }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") ? $0 : nil }
    }

    /// A server of the caller's own (a test that stops and starts it, which must not touch the shared one).
    public static func dedicated() throws -> TestPostgres { try TestPostgres() }

    private init() throws {
        guard let bin = Self.binDirectory() else {
            throw TestPostgresError(
                "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): `just qa` installs it"
            )
        }
        self.bin = bin
        let parent = getpid()
        directory = "/tmp/corral-pg-\(parent)-\(UInt32.random(in: 0...UInt32.max))"
        password = "pw-" + UUID().uuidString
        let serial = Self.made.add(1, ordering: .relaxed).newValue
        account = getuid() == 0 ? "corralpg\(parent)s\(serial)" : nil
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory + "/socket", withIntermediateDirectories: true)
        if let account {
            try Self.shell("/usr/sbin/useradd --system --no-create-home --shell /usr/sbin/nologin \(account)")
            try Self.shell("chown -R \(account) \(directory)")
        }
        try watch(parent: parent)
        try write(password + "\n", to: directory + "/pwfile")
        try asServer(
            "\(bin)/initdb -D \(directory)/data -U \(Self.user) --pwfile=\(directory)/pwfile --auth-local=trust "
                + "--auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >\(directory)/initdb.log 2>&1"
        )
        try start()
    }

    /// Starts the server (again, after `stop`), and waits until it takes connections.
    public func start() throws {
        try asServer(
            "\(bin)/pg_ctl -D \(directory)/data -l \(directory)/server.log -w -t 60 -o '-p \(port) "
                + "-c listen_addresses=127.0.0.1 -k \(directory)/socket -c fsync=off -c max_connections=200' start "
                + ">/dev/null"
        )
    }

    /// Stops the server: `fast` (clients are disconnected, the server shuts down cleanly) or `immediate` (as if
    /// killed: the next start recovers from its WAL).
    public func stop(mode: String = "fast") throws {
        try asServer("\(bin)/pg_ctl -D \(directory)/data -m \(mode) -w -t 60 stop >/dev/null")
    }

    /// A new, empty database; its URL (without the password, which is `password`).
    public func makeDatabase() throws -> String {
        let name = lock.withLock {
            databases += 1
            return "t\(databases)_\(UInt32.random(in: 0...UInt32.max))"
        }
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    public func url(database: String) -> String { "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)" }

    /// Runs SQL as the superuser over the server's socket (no password) in `database`.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let output = directory + "/psql-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let quoted = sql.replacingOccurrences(of: "'", with: "'\\''")
        try asServer(
            "\(bin)/psql -X -q -t -A -v ON_ERROR_STOP=1 -h \(directory)/socket -p \(port) -U \(Self.user) "
                + "-d \(database) -c '\(quoted)' >\(output) 2>&1",
            log: output
        )
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    /// The watchdog: once `parent` is gone, stop the server at once, remove the directory and the account.
    private func watch(parent: pid_t) throws {
        let stop = "\(asServerCommand("\(bin)/pg_ctl -D \(directory)/data -m immediate -w -t 30 stop"))"
        let removeAccount = account.map { "; /usr/sbin/userdel \($0)" } ?? ""
        let script = """
            while kill -0 \(parent) 2>/dev/null; do sleep 0.5; done
            \(stop) >/dev/null 2>&1; rm -rf \(directory)\(removeAccount) >/dev/null 2>&1
            """
        // In a session of its own, so that a signal to the test's process group does not end it first.
        let quoted = script.replacingOccurrences(of: "'", with: "'\\''")
        try Self.shell("exec /usr/bin/setsid -f /bin/sh -c '\(quoted)'")
    }

    private func asServerCommand(_ command: String) -> String {
        guard let account else { return command }
        let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
        return "/usr/sbin/runuser -u \(account) -- /bin/sh -c '\(quoted)'"
    }

    private func asServer(_ command: String, log: String? = nil) throws {
        do {
            try Self.shell(asServerCommand(command))
        } catch {
            let detail = [log, directory + "/server.log", directory + "/initdb.log"].compactMap { $0 }
                .compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
            throw TestPostgresError("\(error) \(detail.suffix(2000))")
        }
    }

    private func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if let account { try Self.shell("chown \(account) \(path)") }
        chmod(path, 0o600)
    }

    static func shell(_ command: String) throws {
        let status = runShell(command)
        guard status == 0 else { throw TestPostgresError("`\(command)` exited with status \(status)") }
    }

    /// A port nothing listens on now (the kernel's choice for an ephemeral bind).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestPostgresError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TestPostgresError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
