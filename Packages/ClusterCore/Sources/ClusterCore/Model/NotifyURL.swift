/// Where a job's notifications go (`--notify URL`, issue 17): an http(s) URL, checked at submission. The
/// controller posts a JSON event to it when the job starts, ends or is preempted. Credentials in the URL's
/// user part are refused (they would be shown to anyone who can see the job); a webhook's secret in its path
/// is kept but never shown in full (`redacted`).
public struct NotifyURL: Hashable, Sendable, CustomStringConvertible {
    public static let maxLength = 2048

    /// "http" or "https".
    public let scheme: String
    /// Host and optional port, as written ("hooks.example.com", "127.0.0.1:9000", "[::1]:80").
    public let authority: String
    /// Path and query, "/" at least.
    public let path: String

    /// The URL checked: http or https, a host, no user part, printable ASCII without spaces, at most
    /// `maxLength` bytes. The message says what is wrong.
    public static func parse(_ text: String) throws(SpecError) -> NotifyURL {
        func refuse(_ why: String) -> SpecError { SpecError(field: "notify", message: why) }
        guard text.utf8.count <= maxLength else { throw refuse("longer than \(maxLength) bytes") }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw refuse("must be printable ASCII without spaces (percent-encode the rest)")
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            throw refuse("must be an http:// or https:// URL")
        }
        let rest = text.dropFirst(scheme.count + 3)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<end])
        guard !authority.isEmpty, authority.first != ":" else { throw refuse("has no host") }
        guard !authority.contains("@") else {
            throw refuse("must not hold credentials (user:password@): anyone who can see the job would see them")
        }
        var path = String(rest[end...])
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        return NotifyURL(scheme: scheme, authority: authority, path: path)
    }

    public var description: String { "\(scheme)://\(authority)\(path)" }

    /// For people: scheme and host, the path elided when there is one (a webhook's path is often its secret).
    public var redacted: String { "\(scheme)://\(authority)" + (path == "/" ? "/" : "/…") }
}
