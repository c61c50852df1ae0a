import HTTPKit

/// `GET /`: the web dashboard. The page, its script and its style are static and hold no data, so they are
/// served without a token (a browser cannot add one to a navigation); everything they show comes from the
/// JSON API with the token the user types, kept in the tab's sessionStorage only. The script builds every
/// element with `textContent` (`createElementNS` for the utilization chart), never `innerHTML`, so nothing a
/// job name, command or log holds can run as code, and the Content-Security-Policy allows no other script, no
/// inline script or style and no framing. Plain HTML, CSS and JavaScript: no build step, no external assets.
///
/// The files, by concern: the page (`Dashboard+Page`), the style (`Dashboard+Style`), and the one script in
/// parts (`Dashboard+Script`: requests, routing, sign-in and helpers; `+ScriptJobs`: the jobs list and its
/// filters; `+ScriptJob`: a job's page with its log followed live and its actions; `+ScriptNodes`: nodes,
/// a node's page and its utilization chart; `+ScriptQueues`: queues and the start-up). They are served as one
/// `/dashboard.js`, in that order.
enum Dashboard {
    static let headers: [(String, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-cache"),
    ]

    static func page(_ body: String, type: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", type)] + headers), body: Array(body.utf8))
    }

    static func add(to router: inout Router) {
        router.add(.get, "/") { _ in page(html, type: "text/html; charset=utf-8") }
        router.add(.get, "/dashboard.js") { _ in page(script, type: "text/javascript; charset=utf-8") }
        router.add(.get, "/dashboard.css") { _ in page(style, type: "text/css; charset=utf-8") }
    }

    /// The whole script, its parts in order (later parts use the helpers of the first).
    static let script = scriptCore + scriptJobs + scriptJob + scriptNodes + scriptQueues
}
