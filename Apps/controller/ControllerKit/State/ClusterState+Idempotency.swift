import ClusterCore
import ClusterStore
import Glibc

/// A submission's `Idempotency-Key` header, with the hash of its body.
struct IdempotencyRequest: Sendable {
    let key: String
    let requestHash: String

    func record(user: String, job: JobID, at now: Timestamp) -> IdempotencyRecord {
        IdempotencyRecord(user: user, key: key, requestHash: requestHash, job: job, createdAt: now)
    }
}

/// Keys are the user's own: two users may use the same one.
struct IdempotencyScope: Hashable, Sendable {
    let user: String
    let key: String
}

/// Idempotent submissions (issue 16): a key is remembered for a day with the job (or array) its first try
/// made, in the same transaction; a retry with the same key and body gets that job, with another body a 422.
extension ClusterState {
    static let idempotencyRetention: Int64 = 86_400

    /// `CORRAL_TEST_EXIT_AFTER_COMMIT=submit`: a test hook of the fault suite, nothing else reads it. The
    /// controller exits (as a kill -9 would leave it) right after storing a batch of submissions, before
    /// answering any of them.
    static func exitNow() -> Never { _exit(137) }

    static let exitAfterSubmitCommit: Bool =
        getenv("CORRAL_TEST_EXIT_AFTER_COMMIT").map { String(cString: $0) } == "submit"

    /// The job (or array) an earlier submission with this key made; nil when the key is new.
    func replay(_ request: IdempotencyRequest, user: String) throws(ClusterError) -> JobID? {
        try replayRecord(request, user: user)?.job
    }

    /// The record of an earlier submission with this key, less than a day old; nil when the key is new.
    func replayRecord(_ request: IdempotencyRequest, user: String) throws(ClusterError) -> IdempotencyRecord? {
        guard let record = idempotencyKeys[IdempotencyScope(user: user, key: request.key)],
            record.createdAt >= clock.now() + .seconds(-Self.idempotencyRetention)
        else { return nil }
        guard record.requestHash == request.requestHash else { throw .idempotencyKeyReused(request.key) }
        return record
    }

    /// A key that a submission still waiting for the group commit holds: another route or body with it is
    /// refused (the same one joins it, in `submit`), so two rows never race for one key.
    func refusePendingKey(_ request: IdempotencyRequest, user: String) throws(ClusterError) {
        if submitBatch.contains(where: { $0.idempotency?.user == user && $0.idempotency?.key == request.key }) {
            throw .idempotencyKeyReused(request.key)
        }
    }

    func remember(_ record: IdempotencyRecord) {
        let scope = IdempotencyScope(user: record.user, key: record.key)
        if idempotencyKeys.updateValue(record, forKey: scope) == nil { idempotencyOrder.append(scope) }
        // Keys a day old go with each new one, whichever route made it.
        if idempotencyOrder.count - idempotencyHead > 0,
            let oldest = idempotencyKeys[idempotencyOrder[idempotencyHead]],
            oldest.createdAt < clock.now() + .seconds(-Self.idempotencyRetention)
        {
            forgetOldIdempotencyKeys()
        }
    }

    /// Drops the keys older than a day, from memory and from SQLite.
    func forgetOldIdempotencyKeys() {
        let oldest = clock.now() + .seconds(-Self.idempotencyRetention)
        var dropped = false
        while idempotencyHead < idempotencyOrder.count {
            let scope = idempotencyOrder[idempotencyHead]
            guard let record = idempotencyKeys[scope], record.createdAt < oldest else { break }
            idempotencyKeys[scope] = nil
            idempotencyHead += 1
            dropped = true
        }
        if idempotencyHead > 1024 && idempotencyHead * 2 > idempotencyOrder.count {
            idempotencyOrder.removeFirst(idempotencyHead)
            idempotencyHead = 0
        }
        if dropped {
            walSync.willCommit()
            try? database.deleteIdempotencyKeys(before: oldest)
            walSync.counted()
        }
    }
}
