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
    /// The request line alone; beyond this the server answers 414 and closes (capped by `maxHeaderBytes`).
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Header fields in one request head (and trailer fields of a chunked body); beyond this 431 and close.
    public var maxHeaderCount: Int = 100
    /// Time to receive a whole request head once it has started (slowloris guard), and how long a fresh
    /// connection may stay silent. A head cut by it is answered 408; a silent connection is just closed.
    public var headerReadTimeout: Duration = .seconds(10)
    /// The longest a request body (Content-Length or chunked) may stall between two reads; then 408 and close.
    public var bodyReadTimeout: Duration = .seconds(30)
    /// How long a keep-alive connection may sit idle between requests.
    public var idleTimeout: Duration = .seconds(75)
    /// The longest a response write may stall (the peer reads nothing) before the connection is closed.
    public var writeTimeout: Duration = .seconds(30)
    /// Open connections served. Beyond it, up to `maxConnections / 8` more (at least 16, at most 1024) are
    /// accepted only to be answered 503 with `Retry-After` and closed; past that, accepting pauses until a
    /// connection closes.
    public var maxConnections: Int = 16_384
    /// How long `shutdown()` lets in-flight handlers finish before connections are closed regardless.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// listen(2) backlog.
    public var backlog: Int32 = 1024
    /// Epoll reactor threads. With more than one, each has its own listening socket on the same port
    /// (SO_REUSEPORT) and the kernel spreads new connections across them; `maxConnections` then applies to
    /// each loop.
    public var eventLoops: Int = 1
    /// The reactor threads' name (`top -H`, debuggers), with "-N" after it when there are several loops. Linux
    /// keeps 15 bytes of it.
    public var threadName: String = "http"
    /// Serve HTTPS with these files (and optionally verify client certificates); nil serves plain HTTP.
    /// The files are loaded by `start()`, which throws `HTTPServerError` naming a bad file.
    public var tls: TLSConfiguration?

    public init() {}
}
