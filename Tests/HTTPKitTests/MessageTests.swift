import HTTPKit
import Testing

@Suite struct MessageTests {
    @Test func headersAreCaseInsensitiveAndOrdered() {
        var headers = HTTPHeaders([("X-A", "1")])
        headers.add("x-a", "2")
        headers.add("Other", "o")
        #expect(headers["x-A"] == "1")
        #expect(headers.values("X-a") == ["1", "2"])
        headers.set("X-A", "3")
        #expect(headers.values("x-a") == ["3"])
        #expect(headers.map(\.name) == ["Other", "X-A"])
    }

    @Test func errorEnvelopeIsEscapedJSON() {
        let response = HTTPResponse.error(.conflict, code: "state", message: "bad \"quote\"\n\\ \u{1}")
        #expect(response.status.code == 409)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(text(response.body) == #"{"error":{"code":"state","message":"bad \"quote\"\n\\ \u0001"}}"#)
    }

    @Test func bearerToken() {
        #expect(
            HTTPRequest(method: .get, path: "/", headers: HTTPHeaders([("Authorization", "bearer abc")])).bearerToken
                == "abc"
        )
        #expect(
            HTTPRequest(method: .get, path: "/", headers: HTTPHeaders([("Authorization", "Basic abc")])).bearerToken
                == nil
        )
        #expect(HTTPRequest(method: .get, path: "/").bearerToken == nil)
    }

    @Test func statusReasons() {
        #expect(HTTPStatus.ok.reason == "OK")
        #expect(HTTPStatus(code: 200) == .ok)
        #expect(HTTPStatus(code: 599).reason == "")
        #expect(HTTPStatus.tooManyRequests.code == 429)
    }
}
