import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import HTTPKit
import LinuxSystem
import Synchronization

/// The node's stage cache (issue 20): copies of the sources jobs stage (`--stage SRC[:NAME]`), made before the
/// job starts and shared by the jobs that stage the same source as the same account.
///
///     CACHE_DIR/KEY/data     the copy, owned by the account that staged it (the directory is 0700: theirs alone)
///     CACHE_DIR/KEY.json     what it is a copy of: source, account, size and modification time (the agent's)
///
/// KEY is a hash of the account, the source, its size and its modification time: a source that changed is a
/// new entry, and the old one goes when no job uses it. The copy runs as the job's account (`cp` through
/// `setpriv`), so nobody stages what they cannot read; a copy per account, not per source, so nobody reads a
/// copy another account made of files it may not read. The cache never holds more than its size: entries no
/// running job uses go, least recently used first, before a copy that needs their room, and a copy that cannot
/// have room fails its launch.
actor StageCache {
    struct Entry: Codable, Equatable {
        var key: String
        var source: String
        var uid: UInt32
        var bytes: Int64
        /// The newest modification time in the source, as du prints it (seconds.nanoseconds).
        var modified: String
        var lastUsed: Int64
    }

    /// Why a source cannot be staged, and whose fault that is: the node's (no room, a stage root missing, a
    /// disk error) sends the job back to the queue for another node; the job's (a source outside the roots or
    /// missing, one its account may not read, one larger than the whole cache) fails it.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        let nodeFault: Bool
        init(_ description: String, nodeFault: Bool) {
            self.description = description
            self.nodeFault = nodeFault
        }

        /// A command's failure: the node's unless the account was refused.
        init(command description: String) {
            self.init(description, nodeFault: !description.contains("Permission denied"))
        }
    }

    let directory: String
    let limit: Int64
    let roots: [String]
    let log: any LogSink
    private var entries: [String: Entry] = [:]
    /// The allocations using each entry.
    private var users: [String: Set<String>] = [:]
    private let snapshot = Mutex(StageCacheReport(used: 0, limit: 0, entries: 0, inUse: 0))
    /// Copies under way, each with the room it holds.
    private var copying: [String: (task: Task<Entry, any Error>, bytes: Int64)] = [:]

    init(directory: String, limit: Int64, roots: [String], log: any LogSink) {
        self.directory = directory
        self.limit = limit
        self.roots = roots
        self.log = log
        try? Files.makeDirectories(directory, mode: 0o711)
        chmod(directory, 0o711)
        // What earlier agent processes copied stays; half copies (no KEY.json) and strays go.
        var known: [String: Entry] = [:]
        for name in Files.list(directory) where name.hasSuffix(".json") {
            if let text = try? Files.read("\(directory)/\(name)", limit: 65536),
                let entry = try? WireJSON.decode(Entry.self, from: Array(text.utf8)), "\(entry.key).json" == name,
                Files.isDirectory("\(directory)/\(entry.key)/data")
            {
                known[entry.key] = entry
            }
        }
        for name in Files.list(directory) where known[name] == nil && known[String(name.dropLast(5))] == nil {
            Self.remove("\(directory)/\(name)")
        }
        entries = known
        snapshot.withLock {
            $0 = StageCacheReport(
                used: known.values.reduce(0) { $0 + $1.bytes },
                limit: limit,
                entries: known.count,
                inUse: 0
            )
        }
    }

    /// What the heartbeats report.
    nonisolated func report() -> StageCacheReport { snapshot.withLock { $0 } }

    /// The local path of each source (by name), copied first where the cache has no current copy for the
    /// account; the allocation uses them until `release`.
    func acquire(
        _ stages: [StageSource],
        account: UnixAccount?,
        allocation: String,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> (paths: [String: String], keys: [String]) {
        var paths: [String: String] = [:]
        var keys: [String] = []
        do {
            for stage in stages {
                let key = try await entry(for: stage.source, account: account, progress: progress)
                users[key, default: []].insert(allocation)
                publish()
                if stage.checksum == true {
                    try await verify(
                        stage.source,
                        key: key,
                        account: account,
                        allocation: allocation,
                        progress: progress
                    )
                }
                keys.append(key)
                paths[stage.name] = "\(directory)/\(key)/data"
            }
        } catch {
            release(allocation: allocation)
            throw error
        }
        return (paths, keys)
    }

    /// A running job an earlier agent process started: its entries stay while it runs.
    func adopt(allocation: String, keys: [String]) {
        for key in keys where entries[key] != nil { users[key, default: []].insert(allocation) }
        publish()
    }

    func release(allocation: String) {
        for key in users.keys { users[key]?.remove(allocation) }
        publish()
    }

    private func entry(
        for source: String,
        account: UnixAccount?,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> String {
        guard let root = roots.first(where: { source == $0 || source.hasPrefix($0 + "/") }) else {
            throw Failure(
                roots.isEmpty
                    ? "this node stages nothing ([stage] roots in its agent.toml is empty)"
                    : "\(source) is not below a stage root of this node (\(roots.joined(separator: ", ")))",
                nodeFault: roots.isEmpty
            )
        }
        let uid = account?.uid ?? getuid()
        let (bytes, modified) = try await Self.measure(source, below: root, as: account)
        let key = String(Digest.sha256Hex("\(uid)\0\(source)\0\(bytes)\0\(modified)").prefix(32))
        if entries[key] != nil {
            entries[key]?.lastUsed = Self.now()
            progress("\(source): a cached copy (\(ByteSize.format(bytes)))")
            return key
        }
        if let copy = copying[key] {
            progress("\(source): \(ByteSize.format(bytes)), copied for another job now")
            _ = try await copy.task.value
            // The copy is whole, but storing what it is may have failed (and dropped it).
            guard entries[key] != nil else {
                throw Failure("the copy of \(source) made for another job was dropped", nodeFault: true)
            }
            return key
        }
        try makeRoom(for: bytes)
        progress("\(source): copying \(ByteSize.format(bytes))")
        let task = Task { [directory] in
            // How far the copy is, every two seconds, while it runs.
            let watcher = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(2))
                    let done = try await Self.size(of: "\(directory)/\(key)/data.partial", as: nil)
                    progress("\(source): \(ByteSize.format(done)) of \(ByteSize.format(bytes)) copied")
                }
            }
            defer { watcher.cancel() }
            do {
                try await Self.copy(source, to: "\(directory)/\(key)", as: account, bytes: bytes)
                // Recorded inside the task, so every job waiting on it finds the entry when it resumes.
                return try self.record(
                    Entry(key: key, source: source, uid: uid, bytes: bytes, modified: modified, lastUsed: Self.now())
                )
            } catch {
                Self.remove("\(directory)/\(key)")
                throw error
            }
        }
        copying[key] = (task, bytes)
        defer { copying[key] = nil }
        _ = try await task.value
        return key
    }

    /// A whole copy: what it is goes to KEY.json (the agent's), then it is an entry.
    private func record(_ entry: Entry) throws -> Entry {
        try Files.writeAtomically("\(directory)/\(entry.key).json", WireJSON.encodePretty(entry), mode: 0o600)
        entries[entry.key] = entry
        publish()
        log.info("staged \(entry.source) (\(ByteSize.format(entry.bytes))) for uid \(entry.uid)")
        return entry
    }

    /// `--stage-checksum`: the SHA-256 of every file of the copy against the source's, both read as the account.
    /// A copy that differs is dropped (once no other job uses it) and the launch fails, the node's fault.
    private func verify(
        _ source: String,
        key: String,
        account: UnixAccount?,
        allocation: String,
        progress: @Sendable (String) -> Void
    ) async throws {
        progress("\(source): checking the copy by SHA-256")
        let copy = "\(directory)/\(key)/data"
        async let original = Self.checksums(of: source, as: account)
        let copied = try await Self.checksums(of: copy, as: account)
        guard try await original == copied else {
            users[key]?.remove(allocation)
            if (users[key] ?? []).isEmpty, let entry = entries[key] { drop(entry) }
            throw Failure(
                "the copy of \(source) differs from it by SHA-256: dropped, to be copied again",
                nodeFault: true
            )
        }
    }

    /// The SHA-256 of the list of every file's SHA-256 and path below `path` (a directory), or of the file: one
    /// line whatever the number of files. An error reading any file shows on stderr (sh has no pipefail).
    static func checksums(of path: String, as account: UnixAccount?) async throws -> String {
        let script = """
            if [ -d "$1" ]; then cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum
            else sha256sum < "$1"; fi
            """
        let result = try await run(["/bin/sh", "-c", script, "sh", path], as: account, timeout: .seconds(6 * 3600))
        guard result.status == 0, result.stderr.isEmpty else {
            throw Failure(command: "cannot checksum \(path): \(result.stderr.split(separator: "\n").first ?? "failed")")
        }
        return result.stdout
    }

    /// Removes the entry's files before anything else happens here, so the bound holds on disk: a new copy
    /// starts only once the room is free. Heartbeats do not wait for it (`report` reads a snapshot).
    private func drop(_ entry: Entry) {
        Self.remove("\(directory)/\(entry.key)")
        unlink("\(directory)/\(entry.key).json")
        entries[entry.key] = nil
        users[entry.key] = nil
        publish()
    }

    /// The report heartbeats read, without waiting for this actor (an eviction or a slow disk holds it).
    private func publish() {
        let report = StageCacheReport(
            used: entries.values.reduce(0) { $0 + $1.bytes },
            limit: limit,
            entries: entries.count,
            inUse: entries.keys.count { !(users[$0] ?? []).isEmpty }
        )
        snapshot.withLock { $0 = report }
    }

    /// Entries no job uses go, least recently used first, until `bytes` more fit within the limit.
    private func makeRoom(for bytes: Int64) throws {
        guard bytes <= limit else {
            throw Failure(
                "it is \(ByteSize.format(bytes)), more than this node's whole stage cache (\(ByteSize.format(limit)))",
                nodeFault: false
            )
        }
        var used = entries.values.reduce(0) { $0 + $1.bytes } + copying.values.reduce(0) { $0 + $1.bytes }
        let idle = entries.values.filter { (users[$0.key] ?? []).isEmpty }.sorted { $0.lastUsed < $1.lastUsed }
        for entry in idle where used + bytes > limit {
            drop(entry)
            used -= entry.bytes
            log.info("stage cache: evicted \(entry.source) (\(ByteSize.format(entry.bytes)))")
        }
        guard used + bytes <= limit else {
            throw Failure(
                "the stage cache has no room for \(ByteSize.format(bytes)): \(ByteSize.format(used)) of "
                    + "\(ByteSize.format(limit)) are copies running jobs use",
                nodeFault: true
            )
        }
    }

    static func now() -> Int64 { Int64(SystemClock().now().milliseconds) }

    /// As the account: the source's apparent size and its newest modification time (any file's, `du --time`),
    /// and its right to read it (du reads every directory; a file is opened, as cp will). A source missing
    /// below a root that is missing or empty is the node's fault (its file system is not mounted), below one
    /// that has files the job's.
    static func measure(_ source: String, below root: String, as account: UnixAccount?) async throws -> (Int64, String)
    {
        let script = """
            set -e
            [ -d "$1" ] || head -c 0 -- "$1"
            du -s -B1 --apparent-size --time --time-style=+%s.%N -- "$1"
            """
        let result = try await run(["/bin/sh", "-c", script, "sh", source], as: account, timeout: .seconds(600))
        let fields = result.stdout.split(separator: "\n").last?.split(separator: "\t") ?? []
        guard result.status == 0, fields.count >= 2, let bytes = Int64(fields[0]) else {
            var said = result.stderr.split(separator: "\n").first.map(String.init) ?? "exited \(result.status)"
            for prefix in ["du: ", "head: "] where said.hasPrefix(prefix) { said.removeFirst(prefix.count) }
            if said.contains("No such file") {
                let mounted = Files.isDirectory(root) && !Files.list(root).isEmpty
                throw Failure(
                    mounted
                        ? "\(source) does not exist"
                        : "the stage root \(root) is missing or empty: is its file system mounted?",
                    nodeFault: !mounted
                )
            }
            throw Failure(command: "cannot read \(source) as \(account?.name ?? "the agent's account"): \(said)")
        }
        return (bytes, String(fields[1]))
    }

    /// `du` as the account: the apparent size, and the account's right to read every part of the source.
    static func size(of source: String, as account: UnixAccount?) async throws -> Int64 {
        let result = try await run(
            ["du", "-s", "-B1", "--apparent-size", "--", source],
            as: account,
            timeout: .seconds(600)
        )
        guard result.status == 0, let bytes = Int64(result.stdout.split(separator: "\t").first ?? "") else {
            var said = result.stderr.split(separator: "\n").first.map(String.init) ?? "du exited \(result.status)"
            if said.hasPrefix("du: ") { said.removeFirst(4) }
            throw Failure(command: "cannot read \(source) as \(account?.name ?? "the agent's account"): \(said)")
        }
        return bytes
    }

    /// `cp -R` as the account into KEY/data.partial, checked against the source's size, renamed to KEY/data.
    static func copy(_ source: String, to entry: String, as account: UnixAccount?, bytes: Int64) async throws {
        try Files.makeDirectories(entry, mode: 0o700)
        if let account { chown(entry, account.uid, account.gid) }
        let partial = entry + "/data.partial"
        // At least 50 MB/s, and never less than ten minutes.
        let timeout = Duration.seconds(max(600, bytes / 50_000_000))
        let result = try await run(
            ["cp", "-R", "--preserve=mode,timestamps", "--", source, partial],
            as: account,
            timeout: timeout
        )
        guard result.status == 0 else {
            throw Failure(
                command:
                    "cannot copy \(source): \(result.stderr.split(separator: "\n").first.map(String.init) ?? "cp failed")"
            )
        }
        let copied = try await size(of: partial, as: account)
        guard copied == bytes else {
            throw Failure(
                "the copy of \(source) has \(copied) bytes, not \(bytes): it changed while copied, or the disk is full",
                nodeFault: true
            )
        }
        // Read-only, so a job cannot change what the account's next jobs get by accident (its account owns the
        // copy and could make it writable again: it would change only its own jobs' data).
        _ = try await run(["chmod", "-R", "a-w", "--", partial], as: account, timeout: .seconds(600))
        guard rename(partial, entry + "/data") == 0 else {
            throw Failure("cannot finish the copy of \(source): \(String(cString: strerror(errno)))", nodeFault: true)
        }
    }

    /// A command as the account (setpriv, from the agent running as root), on a thread of its own.
    static func run(_ command: [String], as account: UnixAccount?, timeout: Duration) async throws -> CommandResult {
        var arguments = command
        if let account, getuid() == 0, account.uid != 0 {
            let groups =
                account.groups.isEmpty ? "\(account.gid)" : account.groups.map(String.init).joined(separator: ",")
            arguments =
                ["/usr/bin/setpriv", "--reuid=\(account.uid)", "--regid=\(account.gid)", "--groups=\(groups)", "--"]
                + command
        }
        let executable = arguments[0].hasPrefix("/") ? arguments[0] : "/usr/bin/" + arguments[0]
        let rest = Array(arguments.dropFirst())
        let result = await Threads.runDedicated {
            Result { () throws(ProcessError) in try CommandRunner.run(executable, rest, timeout: timeout) }
        }
        return try result.get()
    }

    static func remove(_ path: String) {
        _ = try? CommandRunner.run("/bin/rm", ["-rf", "--", path], timeout: .seconds(600))
    }
}
