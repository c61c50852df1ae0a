/// Jobs' logs in the database, as chunks by offset (PostgreSQL: every controller that may lead reads the same
/// logs; on SQLite they are files in the data directory, `LogStore`).
extension ClusterDatabase {
    /// The bytes stored of an allocation's log.
    public func logSize(_ allocation: String) throws(StoreError) -> Int {
        try connection.queryOne(
            "SELECT COALESCE(MAX(start + length(data)), 0) AS size FROM job_logs WHERE allocation = ?",
            [.text(allocation)]
        )?.int("size") ?? 0
    }

    /// Stores `bytes` at `start` (the stored size: the caller appends only beyond what is stored).
    public func appendLog(_ allocation: String, at start: Int, _ bytes: [UInt8]) throws(StoreError) {
        try connection.run(
            "INSERT INTO job_logs (allocation, start, data) VALUES (?, ?, ?)",
            [.text(allocation), .integer(Int64(start)), .blob(bytes)]
        )
    }

    /// Up to `limit` bytes from `offset`.
    public func readLog(_ allocation: String, from offset: Int, limit: Int) throws(StoreError) -> [UInt8] {
        var bytes: [UInt8] = []
        let rows = try connection.query(
            "SELECT start, data FROM job_logs WHERE allocation = ? AND start + length(data) > ? ORDER BY start",
            [.text(allocation), .integer(Int64(offset))]
        )
        for row in rows {
            guard let start = row.int("start"), let data = row.blob("data"), bytes.count < limit else { break }
            let from = max(0, offset - start)
            bytes += data[min(from, data.count)...].prefix(limit - bytes.count)
        }
        return bytes
    }
}
