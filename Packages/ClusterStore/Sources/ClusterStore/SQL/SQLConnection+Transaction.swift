extension SQLConnection {
    /// Runs `body` in a transaction: `begin(kind)` ... `COMMIT`, or `ROLLBACK` and rethrow when `body` throws.
    ///
    /// Called inside another transaction it uses a `SAVEPOINT` instead (and ignores `kind`), so an inner failure
    /// rolls back only the inner work and the outer transaction can go on. A failed `COMMIT` rolls back and throws.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try inTransaction(kind, wrap: { $0 }, body: body)
    }

    /// The typed core of `transaction`: errors from the database itself are `StoreError`, converted by `wrap`.
    func inTransaction<T, E: Error>(
        _ kind: TransactionKind,
        wrap: (StoreError) -> E,
        body: () throws(E) -> T
    ) throws(E) -> T {
        if isInTransaction {
            return try inSavepoint(wrap: wrap, body: body)
        }
        do throws(StoreError) { try begin(kind) } catch { throw wrap(error) }
        let result: T
        do {
            result = try body()
        } catch {
            rollbackQuietly()
            throw error
        }
        do throws(StoreError) {
            try run("COMMIT")
        } catch {
            rollbackQuietly()
            throw wrap(error)
        }
        return result
    }

    private func inSavepoint<T, E: Error>(wrap: (StoreError) -> E, body: () throws(E) -> T) throws(E) -> T {
        // The name is generated here, never taken from input: identifiers cannot be bound as parameters.
        let name = "corral_savepoint_\(savepointLevel + 1)"
        do throws(StoreError) { try run("SAVEPOINT \(name)") } catch { throw wrap(error) }
        savepointLevel += 1
        defer { savepointLevel -= 1 }
        let result: T
        do {
            result = try body()
        } catch {
            rollbackQuietly(to: name)
            throw error
        }
        do throws(StoreError) {
            try run("RELEASE \(name)")
        } catch {
            rollbackQuietly(to: name)
            throw wrap(error)
        }
        return result
    }

    /// Best effort: the database may already have rolled back by itself (SQLite after SQLITE_FULL, a lost
    /// PostgreSQL connection), and the error worth reporting is the one that caused the rollback.
    private func rollbackQuietly() {
        if isInTransaction {
            try? run("ROLLBACK")
        }
    }

    private func rollbackQuietly(to savepoint: String) {
        if isInTransaction {
            try? run("ROLLBACK TO \(savepoint)")
            try? run("RELEASE \(savepoint)")
        }
    }
}
