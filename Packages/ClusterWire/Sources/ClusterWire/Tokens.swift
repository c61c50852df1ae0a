// Tokens: the admin routes that issue, list and revoke them, and whoami.

/// `POST /v1/tokens` (admin): a new user token, shown once.
public struct CreateTokenRequest: Codable, Hashable, Sendable {
    public var user: String
    public var role: String?
    /// Seconds until the token stops working; nil for no expiry.
    public var expiresIn: Int?
    /// The Unix account the holder's jobs run as; nil: the controller's mapping, else the user's own name.
    public var unixUser: String?
    public init(user: String, role: String? = nil, expiresIn: Int? = nil, unixUser: String? = nil) {
        self.unixUser = unixUser
        self.user = user
        self.role = role
        self.expiresIn = expiresIn
    }
}

/// A token as `GET /v1/tokens` lists it: never the token itself, only its visible prefix.
public struct TokenView: Codable, Hashable, Sendable {
    public var prefix: String
    public var user: String
    public var role: String
    public var createdAt: String
    public var lastUsedAt: String?
    public var expiresAt: String?
    public var revoked: Bool
    public var unixUser: String?
    public init(
        prefix: String,
        user: String,
        role: String,
        createdAt: String,
        lastUsedAt: String?,
        expiresAt: String?,
        revoked: Bool,
        unixUser: String? = nil
    ) {
        self.unixUser = unixUser
        self.prefix = prefix
        self.user = user
        self.role = role
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revoked = revoked
    }
}

public struct TokenListResponse: Codable, Hashable, Sendable {
    public var tokens: [TokenView]
    public init(tokens: [TokenView]) { self.tokens = tokens }
}

/// `GET /v1/whoami`.
public struct WhoAmIResponse: Codable, Hashable, Sendable {
    public var user: String
    public var role: String
    public var tokenPrefix: String
    public var expiresAt: String?
    public init(user: String, role: String, tokenPrefix: String, expiresAt: String?) {
        self.user = user
        self.role = role
        self.tokenPrefix = tokenPrefix
        self.expiresAt = expiresAt
    }
}

public struct CreateTokenResponse: Codable, Hashable, Sendable {
    public var token: String
    public var prefix: String
    public var user: String
    public var role: String
    public init(token: String, prefix: String, user: String, role: String) {
        self.token = token
        self.prefix = prefix
        self.user = user
        self.role = role
    }
}
