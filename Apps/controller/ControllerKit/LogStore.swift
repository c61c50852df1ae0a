import ClusterCore
import ClusterStore
import CorralSupport
import Glibc

/// Each allocation's log, as shipped by its agent: one file per allocation under DATA_DIR/logs (in the database
/// on PostgreSQL, where any controller that comes to lead must serve it), appended by offset so that a retried
/// upload never duplicates or loses a byte. Runs on its own serial queue, apart from the cluster state, so log
/// traffic never delays scheduling.
actor LogStore {
    let executor = DispatchSerialExecutor(label: "corral.controller.logs")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let directory: String
    /// Bytes kept per allocation; what comes after is dropped (the agent still has the whole file).
    let capBytes: Int
    private var sizes: [AllocationID: Int] = [:]
    /// PostgreSQL's connection (fenced, as the state's) when the logs live there; nil: files.
    private let database: ClusterDatabase?

    /// Whether sizes are kept once read: the leader's are, as it alone appends; a standby reads them each time.
    private let keepsSizes: Bool

    init(directory: String, capBytes: Int = 256 << 20, databases: Databases? = nil, keepsSizes: Bool = true) throws {
        self.directory = directory
        self.capBytes = capBytes
        self.keepsSizes = keepsSizes
        database = try databases.flatMap { $0.isPostgres ? try $0.open(.logs) : nil }
        try Files.makeDirectories(directory, mode: 0o750)
    }

    func path(_ id: AllocationID) -> String { "\(directory)/\(id.description).log" }

    /// The stored size (read from the file or the database once, then kept).
    func size(of id: AllocationID) throws -> Int {
        if let size = sizes[id] { return size }
        let size = try database.map { try $0.logSize(id.description) } ?? Files.size(path(id))
        if keepsSizes { sizes[id] = size }
        return size
    }

    /// Appends the part of `bytes` (which start at `offset` of the agent's file) that is beyond what is stored.
    /// Returns the stored size afterwards; an offset past it stores nothing (the agent rewinds to the size).
    func append(_ id: AllocationID, offset: Int, bytes: [UInt8]) throws -> Int {
        let stored = try size(of: id)
        guard offset <= stored, offset + bytes.count > stored, stored < capBytes else { return stored }
        let fresh = bytes[(stored - offset)...].prefix(capBytes - stored)
        if let database {
            try database.appendLog(id.description, at: stored, Array(fresh))
            sizes[id] = stored + fresh.count
            return stored + fresh.count
        }
        let fd = open(path(id), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Files.Failure("cannot write \(path(id)): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        let chunk = Array(fresh)
        while written < chunk.count {
            let count = chunk[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                // A write that stopped partway (a full disk) is cut back to what was stored, so the agent's retry
                // from the stored size neither repeats nor tears a byte (issue 18, finding 2). Should the cut
                // itself fail, what did get written is counted instead.
                if ftruncate(fd, off_t(stored)) != 0 { sizes[id] = stored + written }
                throw Files.Failure("cannot write \(path(id)): \(reason)")
            }
            written += count
        }
        sizes[id] = stored + written
        return stored + written
    }

    /// Up to `limit` bytes from `offset`, and the stored size.
    func read(_ id: AllocationID, from offset: Int, limit: Int = 4 << 20) throws -> (bytes: [UInt8], size: Int) {
        let size = try size(of: id)
        if let database {
            // Bytes stored after the size was read wait for the next read (the size header covers the body).
            return (try database.readLog(id.description, from: offset, limit: min(limit, max(0, size - offset))), size)
        }
        return (Files.read(path(id), from: offset, limit: limit, size: size), size)
    }
}
