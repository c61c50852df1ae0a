/// Listen address and limits of an `HTTPServer`.
public struct HTTPServerConfiguration: Sendable {
    /// An IP literal or a resolvable name.
    public var host: String = "127.0.0.1"
    /// 0 picks an ephemeral port; read it back from `HTTPServer.port` after `start()`.
    public var port: Int = 8700
    /// Request line plus headers; beyond this the server answers 431 and closes.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Declared Content-Length beyond this is answered 413 and the connection closed.
    public var maxBodyBytes: Int = 8 * 1024 * 1024
    /// Time to receive a whole request head once it has started (slowloris guard); also the longest a body
    /// may stall between two reads, and how long a fresh connection may stay silent.
    public var headerReadTimeout: Duration = .seconds(10)
    /// How long a keep-alive connection may sit idle between requests (and a write may stall).
    public var idleTimeout: Duration = .seconds(75)
    /// Beyond this many open connections, accepting pauses until one closes.
    public var maxConnections: Int = 16_384
    /// How long `shutdown()` lets in-flight handlers finish before connections are closed regardless.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// listen(2) backlog.
    public var backlog: Int32 = 1024

    public init() {}
}
