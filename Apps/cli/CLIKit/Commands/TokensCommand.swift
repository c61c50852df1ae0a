import ClusterWire
import CorralClient
import CorralSupport

/// (admin) `corral tokens create --user NAME [--unix-user ACCOUNT] [--admin] [--expires 30d] | tokens list |
/// tokens revoke PREFIX`.
struct TokensCommand: CorralCommand {
    enum Action: Sendable, Equatable {
        /// A new token, shown once; `expiresIn` in seconds (nil: it does not expire).
        case create(user: String, admin: Bool, expiresIn: Int?, unixUser: String? = nil)
        case list
        case revoke(prefix: String)
    }

    var action: Action

    static let usage = UsageError(
        "usage: corral tokens create --user NAME [--unix-user ACCOUNT] [--admin] [--expires 30d] | tokens list | "
            + "tokens revoke PREFIX"
    )

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> TokensCommand {
        switch try arguments.nextWord() {
        case "create": return TokensCommand(action: try create(&arguments))
        case "list":
            try arguments.nothing(usage: usage.message)
            return TokensCommand(action: .list)
        case "revoke":
            let words = arguments.rest()
            guard words.count == 1 else { throw usage }
            return TokensCommand(action: .revoke(prefix: words[0]))
        default: throw usage
        }
    }

    static func create(_ arguments: inout ArgumentReader) throws(UsageError) -> Action {
        var user: String?
        var admin = false
        var expires: Int?
        var unixUser: String?
        while let argument = try arguments.next() {
            switch argument {
            case .option("--admin"): admin = true
            // Without its value, an option is refused with the whole usage, which says what create takes.
            case .option("--user"):
                guard let name = try? arguments.value(for: "--user") else { throw usage }
                user = name
            case .option("--unix-user"):
                guard let name = try? arguments.value(for: "--unix-user") else { throw usage }
                unixUser = name
            case .option("--expires"):
                guard let text = try? arguments.value(for: "--expires") else { throw usage }
                guard let seconds = DurationText.seconds(text) else {
                    throw UsageError.malformedValue("--expires", expected: "seconds or 90s, 30m, 2h, 30d", got: text)
                }
                expires = seconds
            case .option, .positional: throw usage
            }
        }
        guard let user else { throw usage }
        return .create(user: user, admin: admin, expiresIn: expires, unixUser: unixUser)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        switch action {
        case .create(let user, let admin, let expiresIn, let unixUser):
            let created = try await client.createToken(
                user: user,
                role: admin ? "admin" : "user",
                expiresIn: expiresIn,
                unixUser: unixUser
            )
            // The token alone on stdout (`> file` makes a token file corral configure --token-file reads); the
            // hint goes to stderr.
            context.print(created, text: "\(created.token)\n")
            if !context.json {
                FileHandleOutput.stderr(
                    "(shown once: give it to \(created.user), who runs corral configure --token-file FILE or --token -)\n"
                )
            }
        case .list:
            let tokens = try await client.tokens().tokens
            context.print(tokens, text: Tables.tokens(tokens))
        case .revoke(let prefix):
            let token = try await client.revokeToken(prefix: prefix)
            context.print(token, text: "revoked \(token.prefix) (\(token.user))\n")
        }
        return 0
    }
}
