internal import Glibc

/// Process-wide setup HTTPKit needs: ignoring SIGPIPE. Idempotent and thread-safe; call it early in `main`
/// (HTTPClient and HTTPServer also call it). libcurl is loaded, and `curl_global_init` run, on the first
/// transfer (CCurl), so a process that never sends a request never loads it.
public enum HTTPKitRuntime {
    private static let once: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    public static func initialize() {
        _ = once
    }
}
