internal import CSQLite

extension Connection {
    /// Calls `handler` with the SQL text of each statement as it starts running (`SQLITE_TRACE_STMT`), with `?`
    /// placeholders rather than bound values; trigger bodies show as `-- TRIGGER name`. `nil` removes the handler.
    public func setTrace(_ handler: ((String) -> Void)?) {
        guard let handler else {
            sqlite3_trace_v2(handle, 0, nil, nil)
            traceHandler = nil
            return
        }
        let box = TraceHandler(handler)
        // The connection keeps `box` alive for as long as SQLite may call back with it.
        traceHandler = box
        sqlite3_trace_v2(
            handle,
            UInt32(SQLITE_TRACE_STMT),
            { _, context, _, text in
                guard let context, let text else { return 0 }
                let box = Unmanaged<TraceHandler>.fromOpaque(context).takeUnretainedValue()
                box.handler(String(cString: text.assumingMemoryBound(to: CChar.self)))
                return 0
            },
            Unmanaged.passUnretained(box).toOpaque()
        )
    }
}
