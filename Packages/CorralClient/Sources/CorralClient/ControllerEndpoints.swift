import ClusterWire
import HTTPKit
import Synchronization

/// The controllers a client may ask: one, or several sharing one PostgreSQL database, of which one leads
/// (issue 19). A request goes to the one that answered last; it moves on to the next only where the request
/// surely did nothing: no connection could be made, or the controller is a standby (a 307 naming the leader,
/// which is asked next when it is listed) or cannot act as the leader now (503 `not_leader` / `no_leader`).
/// Once each was asked, the last answer stands.
final class ControllerEndpoints: Sendable {
    let urls: [String]
    private let clients: [HTTPClient]
    private let current = Mutex(0)

    /// `endpoint`: a URL, or several separated by commas.
    init(_ endpoint: String, configure: (String) -> HTTPClientConfiguration) {
        let urls = endpoint.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        self.urls = urls.isEmpty ? [endpoint] : urls
        clients = self.urls.map { HTTPClient(configuration: configure($0)) }
    }

    func execute(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init()
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        var index = current.withLock { $0 }
        var tries = 0
        // A standby's answer met on the way: it stands when the controller it named does not answer either.
        var answered: HTTPClientResponse?
        while true {
            tries += 1
            let last = tries >= clients.count
            let response: HTTPClientResponse
            do {
                response = try await clients[index].execute(method, path, body: body, headers: headers)
            } catch {
                guard !last, error.code == .couldNotConnect else {
                    if let answered, error.code == .couldNotConnect { return answered }
                    throw error
                }
                index = (index + 1) % clients.count
                continue
            }
            answered = response
            guard !last, let next = next(after: index, response) else {
                current.withLock { $0 = index }
                return response
            }
            index = next
        }
    }

    /// Where to go after `response` from `index`, or nil when it is the answer.
    private func next(after index: Int, _ response: HTTPClientResponse) -> Int? {
        if response.status == 307, let location = response.headers["Location"],
            let named = urls.firstIndex(where: { location.hasPrefix($0 + "/") })
        {
            return named
        }
        let moveOn =
            response.status == 307
            || (response.status == 503
                && ["not_leader", "no_leader"].contains(ErrorEnvelope.code(in: response.body)))
        return moveOn ? (index + 1) % clients.count : nil
    }
}
