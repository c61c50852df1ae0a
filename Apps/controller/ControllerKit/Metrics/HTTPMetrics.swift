import Synchronization

/// HTTP requests by route (the pattern, `GET /v1/jobs/{id}`, so ids never become series), method and status,
/// and their durations by route. Recorded by the responder for every request, off the cluster state's actor
/// (a lock held for a few dictionary updates).
final class HTTPMetrics: Sendable {
    struct Key: Hashable, Sendable {
        var route: String
        var code: Int
    }

    private struct State: Sendable {
        var requests: [Key: Int] = [:]
        var durations: [String: Histogram] = [:]
    }

    private let state = Mutex(State())

    func record(route: String, code: Int, seconds: Double) {
        state.withLock {
            $0.requests[Key(route: route, code: code), default: 0] += 1
            $0.durations[route, default: Histogram(Histogram.requests)].observe(seconds)
        }
    }

    func text() -> String {
        var out = PrometheusText()
        render(into: &out)
        return out.text
    }

    func render(into out: inout PrometheusText) {
        let (requests, durations) = state.withLock { ($0.requests, $0.durations) }
        out.family("corral_http_requests_total", "counter", "HTTP requests by route and status code.")
        for key in requests.keys.sorted(by: { ($0.route, $0.code) < ($1.route, $1.code) }) {
            out.sample(
                "corral_http_requests_total",
                ["route": key.route, "code": String(key.code)],
                requests[key] ?? 0
            )
        }
        out.family(
            "corral_http_request_duration_seconds",
            "histogram",
            "HTTP request duration by route (long polls wait up to 30 s by design)."
        )
        for route in durations.keys.sorted() {
            out.histogram("corral_http_request_duration_seconds", ["route": route], durations[route]!)
        }
    }
}
