import Foundation
import Testing

@testable import ControllerKit

/// Which Unix account a user's jobs run as, and the refusals: a pure function of the user, the token's
/// account and controller.toml's `[accounts]`.
@Suite struct AccountPolicyTests {
    @Test func theTokenWinsThenTheMapThenTheDefaultThenTheUsersOwnName() throws {
        var policy = AccountPolicy(map: ["ana": "ana2"])
        #expect(try policy.account(for: "ana", tokenAccount: "svc_ana") == "svc_ana")
        #expect(try policy.account(for: "ana", tokenAccount: nil) == "ana2")
        #expect(try policy.account(for: "bo", tokenAccount: nil) == "bo")
        policy.defaultAccount = "corral-jobs"
        #expect(try policy.account(for: "bo", tokenAccount: nil) == "corral-jobs")
        #expect(try policy.account(for: "ana", tokenAccount: nil) == "ana2")
    }

    @Test func rootOnlyForTheUsersAllowedIt() throws {
        let policy = AccountPolicy(map: ["ops": "root", "ana": "root"], rootUsers: ["ops"])
        #expect(try policy.account(for: "ops", tokenAccount: nil) == "root")
        #expect(throws: AccountPolicy.Refusal.rootNotAllowed(user: "ana")) {
            try policy.account(for: "ana", tokenAccount: nil)
        }
        // A user named root gets the account root by default: refused all the same.
        #expect(throws: AccountPolicy.Refusal.rootNotAllowed(user: "root")) {
            try AccountPolicy().account(for: "root", tokenAccount: nil)
        }
        #expect(try AccountPolicy(rootUsers: ["*"]).account(for: "anyone", tokenAccount: "root") == "root")
    }

    @Test(arguments: [
        "", "a/b", "../etc", "x;rm -rf /", "$(id)", "-rf", ".hidden", "a b", "é", String(repeating: "a", count: 33),
    ])
    func namesWithPathOrShellCharactersAreRefused(name: String) {
        #expect(throws: AccountPolicy.Refusal.invalidName(name)) {
            try AccountPolicy().check(name, for: "ana")
        }
    }

    @Test func theAccountsTableAndFlagsAreRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try "[accounts]\ndefault = \"jobs\"\nroot_users = [\"ops\"]\n\n[accounts.map]\nana = \"ana2\"\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        let configuration = try ControllerConfiguration.parse(["--config", path, "--root-users", "ci,admin"])
        #expect(configuration.accounts.defaultAccount == "jobs")
        #expect(configuration.accounts.map == ["ana": "ana2"])
        #expect(configuration.accounts.rootUsers == ["ops", "ci", "admin"])
        let flags = try ControllerConfiguration.parse(["--config", "/dev/null", "--default-unix-user", "nobody"])
        #expect(flags.accounts.defaultAccount == "nobody")
    }

    @Test(arguments: [
        ("[accounts]\ndefault = \"a/b\"\n", "accounts.default"),
        ("[accounts]\nroot_users = \"ops\"\n", "accounts.root_users"),
        ("[accounts]\nroot_users = [1]\n", "accounts.root_users"),
        ("[accounts.map]\nbob = \"$(reboot)\"\n", "accounts.map.bob"),
        ("[accounts.map]\nbob = 5\n", "accounts.map.bob"),
        ("[accounts]\nbogus = 1\n", "accounts.bogus"),
        ("accounts = 3\n", "accounts must be a table"),
    ])
    func badAccountSettingsAreRefused(text: String, expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ControllerConfiguration.parse(["--config", path])
            Issue.record("\(text) should be refused")
        } catch {
            #expect(error.message.contains(expected), "'\(error.message)' should mention \(expected)")
        }
    }

    @Test(arguments: [["--default-unix-user", "a b"], ["--root-users", "a/b"], ["--default-unix-user"]])
    func badAccountFlagsAreRefused(arguments: [String]) {
        #expect(throws: ConfigurationError.self) {
            try ControllerConfiguration.parse(["--config", "/dev/null"] + arguments)
        }
    }
}
