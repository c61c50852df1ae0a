import ClusterCore
import ClusterWire
import HTTPKit

/// `/v1/tokens` (admins) and `/v1/whoami`: answered by the credential store alone.
extension API {
    func addTokenRoutes(to router: inout Router) {
        router.add(.post, "/v1/tokens") { request in try await createToken(request) }
        router.add(.get, "/v1/tokens") { request in
            _ = try admin(request, "list tokens")
            return .json(WireJSON.encode(TokenListResponse(tokens: credentials.tokenViews())))
        }
        router.add(.post, "/v1/tokens/{prefix}/revoke") { request in
            _ = try admin(request, "revoke tokens")
            return .json(WireJSON.encode(try await credentials.revokeToken(prefix: parameter(request, "prefix"))))
        }
        router.add(.get, "/v1/whoami") { request in
            guard let me = credentials.whoami(token: request.bearerToken) else { throw APIError.unauthorized }
            return .json(WireJSON.encode(me))
        }
    }

    func createToken(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try admin(request, "create tokens")
        let body = try decode(CreateTokenRequest.self, request)
        guard JobSpec.isSimpleName(body.user) else {
            throw APIError.badRequest("must be 1-63 letters, digits, '-' or '_'", field: "user")
        }
        let role = body.role ?? "user"
        guard let kind = CredentialKind(rawValue: role), kind == .user || kind == .admin else {
            throw APIError.badRequest("must be 'user' or 'admin'", field: "role")
        }
        if let account = body.unixUser {
            try settings.accounts.check(account, for: body.user)
        }
        if let expiresIn = body.expiresIn, expiresIn <= 0 || expiresIn > 10 * 366 * 86400 {
            throw APIError.badRequest("must be between 1 second and 10 years", field: "expires_in")
        }
        let (token, credential) = try await credentials.createToken(
            user: body.user,
            kind: kind,
            expiresIn: body.expiresIn,
            unixUser: body.unixUser
        )
        let response = CreateTokenResponse(token: token, prefix: credential.prefix, user: body.user, role: role)
        return .json(WireJSON.encode(response), status: .created)
    }
}
