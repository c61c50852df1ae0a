/// Holds a connection's trace closure at a stable address for SQLite's C callback context pointer.
final class TraceHandler {
    let handler: (String) -> Void

    init(_ handler: @escaping (String) -> Void) {
        self.handler = handler
    }
}

@available(*, unavailable)
extension TraceHandler: Sendable {}
