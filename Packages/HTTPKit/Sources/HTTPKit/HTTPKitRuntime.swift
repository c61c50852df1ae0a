internal import CCurl
internal import Glibc

/// Process-wide setup HTTPKit needs: ignoring SIGPIPE. Idempotent and thread-safe; call it early in `main`
/// (HTTPClient and HTTPServer also call it). libcurl is loaded, and `curl_global_init` run, on the first
/// transfer (CCurl), so a process that never sends a request never loads it; daemons load it at start
/// (`loadClient`).
public enum HTTPKitRuntime {
    private static let once: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    public static func initialize() {
        _ = once
    }

    /// Loads OpenSSL now rather than at its first use (copenssl.c): the controller, which hashes every token it
    /// is shown, calls it at start and refuses to start without it. Nil when it loaded; else why not.
    public static func loadOpenSSL() -> String? {
        OpenSSLErrors.unavailable()
    }

    /// Loads libcurl now rather than at the first request: a daemon calls it at the top of `main`, while it
    /// has one thread, as libcurl before 7.84 asks of `curl_global_init`. Nil when it loaded; else why not.
    @discardableResult
    public static func loadClient() -> String? {
        ccurl_load_error().map { String(cString: $0) }
    }
}
