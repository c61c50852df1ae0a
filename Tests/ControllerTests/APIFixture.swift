import ClusterCore
import ClusterStore
import CorralSupport
import Foundation
import HTTPKit
import Synchronization

@testable import ControllerKit

/// The controller's API over a fresh data directory of its own, on a manual clock: what tests of the routes
/// (authorization, the OpenAPI document) need, without a process.
struct APIFixture {
    let api: API
    let state: ClusterState
    let credentials: CredentialStore
    let clock: ManualClock
    let directory: String
    /// The state's; a state restarted on the same directory takes it too, so `remove()` stops every sync first.
    let walSync: WALSync

    /// `walSync`: how the state's commits are synced (the WAL's `fdatasync` unless a test holds them).
    /// `finishedJobsInMemory`: the window of finished jobs kept in memory (the setting's default unless given).
    static func make(walSync: WALSync? = nil, finishedJobsInMemory: Int? = nil) async throws -> APIFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)").path
        var settings = ControllerConfiguration()
        settings.dataDir = directory
        if let finishedJobsInMemory { settings.finishedJobsInMemory = finishedJobsInMemory }
        try Files.makeDirectories(directory, mode: 0o700)
        let clock = ManualClock()
        let database = try ClusterDatabase(path: settings.databasePath)
        let walSync = walSync ?? WALSync(databasePath: database.sqlitePath ?? "", log: MemoryLog())
        let state = try await ClusterState(
            settings: settings,
            database: database,
            clock: clock,
            log: MemoryLog(),
            walSync: walSync
        )
        let credentials = try CredentialStore(
            database: try ClusterDatabase(path: settings.databasePath),
            clock: clock,
            log: MemoryLog()
        )
        let api = API(
            state: state,
            credentials: credentials,
            accounting: Accounting(database: try ClusterDatabase(path: settings.databasePath), clock: clock),
            logs: try LogStore(directory: directory + "/logs"),
            settings: settings,
            exec: ExecSessions(clock: clock),
            rollouts: AgentRollouts(
                store: AgentBuildStore(dataDir: directory),
                state: state,
                clock: clock,
                log: MemoryLog()
            )
        )
        return APIFixture(
            api: api,
            state: state,
            credentials: credentials,
            clock: clock,
            directory: directory,
            walSync: walSync
        )
    }

    /// The directory goes once no sync of its WAL is left: a sync that found the WAL gone would end the test
    /// process at once, silently (`WALFile`), as the controller must.
    func remove() {
        walSync.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A POST through the real router and error mapping, as the server serves it; a refusal comes back as
    /// its status with "CODE: MESSAGE" as the body.
    func post(_ path: String, _ body: String, key: String? = nil, token: String) async throws -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.set("Authorization", "Bearer " + token)
        if let key { headers.set("Idempotency-Key", key) }
        let request = HTTPRequest(method: .post, path: path, headers: headers, body: Array(body.utf8))
        do {
            return try await api.responder(log: MemoryLog()).respond(to: request)
        } catch let error as APIError {
            return HTTPResponse(status: error.status, body: Array("\(error.code): \(error.message)".utf8))
        }
    }
}

/// A clock the test moves (to expire a token).
final class ManualClock: WallClock {
    let time = Mutex(Timestamp(milliseconds: 1_800_000_000_000))
    func now() -> Timestamp { time.withLock { $0 } }
    func advance(_ duration: Duration) { time.withLock { $0 = $0 + duration } }
}
