internal import CCurl
internal import Glibc

/// Process-wide setup HTTPKit needs: `curl_global_init` and ignoring SIGPIPE. Idempotent and thread-safe;
/// call it early in `main` (HTTPClient and HTTPServer also call it).
public enum HTTPKitRuntime {
    private static let once: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    public static func initialize() {
        _ = once
    }
}
