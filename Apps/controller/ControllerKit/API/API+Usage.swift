import ClusterCore
import ClusterWire
import CorralSupport
import HTTPKit

/// `GET /v1/usage`: accounting. Admins see everyone's (or one user's with `user=`); a user sees their own.
extension API {
    func addUsageRoutes(to router: inout Router) {
        router.add(.get, "/v1/usage") { request in
            let principal = try user(request)
            var seconds = 7 * 86_400
            var start: Timestamp?
            if let text = request.query["since"], !text.isEmpty {
                if let time = WireTime.parse(text) {
                    start = time
                } else if let value = DurationText.seconds(text), value <= 3_650 * 86_400 {
                    seconds = value
                } else {
                    throw APIError.badRequest("a duration such as 7d, 12h or 3600, or an RFC 3339 time", field: "since")
                }
            }
            let by = request.query["by"].flatMap { $0.isEmpty ? nil : $0 } ?? "user"
            guard let grouping = UsageGrouping(rawValue: by) else {
                throw APIError.badRequest("must be user, queue or node", field: "by")
            }
            var who = request.query["user"].flatMap { $0.isEmpty ? nil : $0 }
            if !principal.isAdmin {
                if let who, who != principal.subject {
                    throw APIError.forbidden("only an admin can see another user's usage")
                }
                who = principal.subject
            }
            return .json(
                WireJSON.encode(try await accounting.usage(seconds: seconds, start: start, by: grouping, user: who))
            )
        }
    }
}
