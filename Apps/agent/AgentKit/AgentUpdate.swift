import ClusterWire
import CorralSupport
import FoundationEssentials
import Glibc
import HTTPKit
import LinuxSystem

/// Self-update (issue 20): `corral-agent update [--version V] [--restart]` and `update --rollback`. The binary
/// is replaced in place and the previous one kept beside it (`corral-agent.previous`); a running agent restarts
/// onto the new one by re-executing itself (SIGHUP, `AgentRestart`), and its jobs, which run under supervisors
/// of their own, are adopted by the new process as after any restart.
///
/// Nothing is replaced until the new binary is whole and proven: its size and SHA-256 match the published
/// build, it is on disk (fsync), and it runs (`version`). Any failure leaves the installed binary as it was.
enum AgentUpdate {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// What an update did.
    enum Outcome: Equatable {
        case installed(AgentBuild)
        case alreadyInstalled(AgentBuild)
    }

    /// The architecture of this machine, as `uname -m` names it.
    static var architecture: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The SHA-256 of a file (nil when it cannot be read): which build an installed binary is.
    static func sha256(of path: String) -> String? {
        (try? Files.readBytes(path, limit: 1 << 30)).map(Digest.sha256Hex)
    }

    /// Downloads the newest build published for this architecture (or `version`), checks it and installs it
    /// over `executable`, keeping the binary it replaces as `executable.previous`.
    static func install(
        _ configuration: AgentConfiguration,
        executable: String,
        version: String?
    ) async throws(Failure) -> Outcome {
        try checkChannel(configuration)
        let arch = architecture
        var query = "/v1/agent-builds?arch=\(arch)"
        if let version {
            guard AgentBuild.isValidVersion(version) else { throw Failure("'\(version.prefix(80))' is not a version") }
            query += "&version=\(version)"
        }
        let (client, listing) = try await leader(configuration, query)
        let listed: AgentBuildList
        do {
            listed = try WireJSON.decode(AgentBuildList.self, from: listing.body)
        } catch {
            throw Failure("the controller's list of agent builds cannot be read: \(error)")
        }
        guard let build = listed.builds.first else {
            throw Failure(
                "no agent build \(version.map { "of version \($0) " } ?? "")is published for \(arch) "
                    + "(corral-controller agents publish FILE --version V)"
            )
        }
        // Builds are checked by their SHA-256 and signature, with OpenSSL (loaded on first use): without it, say so.
        if let why = HTTPKitRuntime.loadOpenSSL() {
            throw Failure("cannot check corral-agent \(build.version): \(why); the installed agent is unchanged")
        }
        if sha256(of: executable) == build.sha256 { return .alreadyInstalled(build) }
        let bytes: [UInt8]
        do {
            let response = try await client.execute(.get, "/v1/agent-builds/\(build.sha256)")
            guard response.status == 200 else {
                throw Failure("the controller answered \(response.status): \(ErrorEnvelope.message(in: response.body))")
            }
            bytes = response.body
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot download corral-agent \(build.version): \(error)")
        }
        guard Int64(bytes.count) == build.size else {
            throw Failure(
                "the download of corral-agent \(build.version) has \(bytes.count) bytes, not the \(build.size) "
                    + "published: refused, the installed agent is unchanged"
            )
        }
        let got = Digest.sha256Hex(bytes)
        guard got == build.sha256 else {
            throw Failure(
                "the download of corral-agent \(build.version) has SHA-256 \(got), not the published "
                    + "\(build.sha256): refused, the installed agent is unchanged"
            )
        }
        try checkSignature(bytes, of: build, configuration)
        let staged = Files.parent(of: executable) + "/.corral-agent.update.\(getpid())"
        do {
            try Files.writeAtomically(staged, bytes: bytes, mode: 0o755)
        } catch {
            unlink(staged)
            throw Failure("cannot write the new build beside \(executable): \(error); the installed agent is unchanged")
        }
        let checked = await Threads.run { Result { () throws(Failure) in try checkRuns(staged) } }
        do throws(Failure) {
            try checked.get()
            try replace(executable, with: staged)
        } catch {
            unlink(staged)
            throw error
        }
        return .installed(build)
    }

    /// The controller that answers `path` (a GET), of the endpoints, in order: with several (issue 19), one that
    /// cannot be reached, a standby (307) or one that cannot act now (503) makes way for the next. A client for
    /// it (with a download's timeout) and its answer.
    static func leader(
        _ configuration: AgentConfiguration,
        _ path: String
    ) async throws(Failure) -> (HTTPClient, HTTPClientResponse) {
        let token = token(configuration)
        var problems: [String] = []
        for endpoint in configuration.endpoints {
            // A short wait for the list (a frozen controller gives way to the next), a long one for the download.
            let client = ControllerLink.makeClient(
                configuration,
                token: token,
                timeout: .seconds(30),
                endpoint: endpoint
            )
            do {
                let response = try await client.execute(.get, path)
                if response.status == 200 {
                    let download = ControllerLink.makeClient(
                        configuration,
                        token: token,
                        timeout: .seconds(600),
                        endpoint: endpoint
                    )
                    return (download, response)
                }
                let problem = "\(endpoint) answered \(response.status): \(ErrorEnvelope.message(in: response.body))"
                guard response.status == 307 || response.status == 503 else {
                    throw Failure("the controller at " + problem)
                }
                problems.append(problem)
            } catch let failure as Failure {
                throw failure
            } catch {
                problems.append("\(endpoint): \(error)")
            }
        }
        throw Failure("cannot ask the controller for agent builds: " + problems.joined(separator: "; "))
    }

    /// Without a signing key, the hash proves only that the binary is the one the controller serves: over plain
    /// http off this machine anyone on the path could serve another, which the agent would run as root. So
    /// that takes https or `update_public_key`.
    static func checkChannel(_ configuration: AgentConfiguration) throws(Failure) {
        guard configuration.updatePublicKey == nil else { return }
        for endpoint in configuration.endpoints where endpoint.lowercased().hasPrefix("http://") {
            let host = endpoint.dropFirst("http://".count).prefix { $0 != "/" && $0 != ":" }
            guard !["127.0.0.1", "localhost", "[::1]"].contains(String(host)), !host.hasPrefix("127.") else { continue }
            throw Failure(
                "updates over plain http from \(endpoint) could be replaced on the way: use https (ca_file) "
                    + "or set update_public_key (signed builds)"
            )
        }
    }

    /// With `update_public_key`, the build must carry a signature of its bytes by that key.
    static func checkSignature(
        _ bytes: [UInt8],
        of build: AgentBuild,
        _ configuration: AgentConfiguration
    )
        throws(Failure)
    {
        guard let keyPath = configuration.updatePublicKey else { return }
        let key: String
        do {
            key = try Files.read(keyPath, limit: 16384)
        } catch {
            throw Failure("cannot read update_public_key: \(error); the installed agent is unchanged")
        }
        guard let text = build.signature, let signature = Data(base64Encoded: text).map({ [UInt8]($0) }) else {
            throw Failure(
                "corral-agent \(build.version) is not signed, and this node installs only builds signed by the key in "
                    + "\(keyPath) (corral-controller agents publish --signature): refused, the installed agent is unchanged"
            )
        }
        switch Signatures.verifyEd25519(publicKeyPEM: key, signature: signature, message: bytes) {
        case .valid: return
        case .invalid:
            throw Failure(
                "the signature of corral-agent \(build.version) is not one by the key in \(keyPath): refused, the "
                    + "installed agent is unchanged"
            )
        case .unusableKey(let why):
            throw Failure("update_public_key \(keyPath) is \(why); the installed agent is unchanged")
        case .cannotCheck(let why):
            throw Failure(
                "cannot check the signature of corral-agent \(build.version): \(why); the installed agent is unchanged"
            )
        }
    }

    /// Puts `executable.previous` back, keeping the binary it replaces as the new `.previous` (so a second
    /// rollback undoes the first).
    static func rollback(executable: String) throws(Failure) {
        let previous = executable + ".previous"
        guard Files.exists(previous) else {
            throw Failure("there is no previous agent binary (\(previous)) to roll back to")
        }
        try checkRuns(previous)
        let swap = executable + ".rollback.\(getpid())"
        unlink(swap)
        guard link(executable, swap) == 0 else { throw Failure("cannot keep \(executable): \(errorText())") }
        guard rename(previous, executable) == 0 else {
            let reason = errorText()
            unlink(swap)
            throw Failure("cannot put back \(previous): \(reason)")
        }
        rename(swap, previous)
        Files.syncDirectory(Files.parent(of: executable))
    }

    /// The new binary must run before it replaces the one that does: `version` within ten seconds.
    static func checkRuns(_ path: String) throws(Failure) {
        let result: CommandResult
        do {
            result = try CommandRunner.run(path, ["version"], timeout: .seconds(10))
        } catch {
            throw Failure("the new agent binary does not start: \(error); the installed agent is unchanged")
        }
        guard result.status == 0, result.stdout.hasPrefix("corral-agent ") else {
            let said = (result.stderr + result.stdout).trimmingWhitespace().prefix(200)
            throw Failure(
                "the new agent binary does not start (`version` exited \(result.status)\(said.isEmpty ? "" : ": \(said)")); "
                    + "the installed agent is unchanged"
            )
        }
    }

    /// `executable` becomes `staged`, atomically (it exists at every moment); the old one stays as `.previous`.
    static func replace(_ executable: String, with staged: String) throws(Failure) {
        let previous = executable + ".previous"
        let keeping = previous + ".tmp.\(getpid())"
        unlink(keeping)
        guard link(executable, keeping) == 0, rename(keeping, previous) == 0 else {
            let reason = errorText()
            unlink(keeping)
            throw Failure("cannot keep the installed agent as \(previous): \(reason); it is unchanged")
        }
        guard rename(staged, executable) == 0 else {
            throw Failure("cannot replace \(executable): \(errorText()); the installed agent is unchanged")
        }
        Files.syncDirectory(Files.parent(of: executable))
    }

    /// The node's own token when it has registered, else the join token.
    static func token(_ configuration: AgentConfiguration) -> String {
        let saved = (try? Files.readSecret(configuration.nodeTokenPath))?.trimmingWhitespace() ?? ""
        return saved.isEmpty ? configuration.clusterToken : saved
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

extension AgentUpdate {
    /// `corral-agent update`: prints what it did; 0 when the binary is (or already was) the one asked for and,
    /// with --restart, the running agent runs it.
    static func command(_ options: AgentCommand.UpdateOptions) async -> Int32 {
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(
                path: options.configPath,
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            FileHandleOutput.stderr("corral-agent update: \(error)\n")
            return 1
        }
        // The binary the running agent runs (it may not be this command's), else this one.
        let executable = AgentRestart.runningExecutable(configuration) ?? Agent.executable
        do throws(Failure) {
            // One update at a time beside a binary (a rollout's and a person's would mix their .previous).
            let lock = try UpdateLock(beside: executable)
            defer { lock.release() }
            if options.rollback {
                try rollback(executable: executable)
                FileHandleOutput.stdout("rolled back \(executable) to the previous binary\n")
            } else {
                switch try await install(configuration, executable: executable, version: options.version) {
                case .installed(let build):
                    FileHandleOutput.stdout(
                        "installed corral-agent \(build.version) (SHA-256 \(build.sha256)) as \(executable); "
                            + "the previous binary is \(executable).previous\n"
                    )
                case .alreadyInstalled(let build):
                    FileHandleOutput.stdout("\(executable) is already corral-agent \(build.version)\n")
                }
            }
            if options.restart {
                let pid = try await AgentRestart.restartRunning(configuration, executable: executable)
                FileHandleOutput.stdout("the agent (pid \(pid)) runs \(executable) now; its jobs kept running\n")
            } else if !options.rollback {
                FileHandleOutput.stdout("a running agent takes it when it restarts (corral-agent update --restart)\n")
            }
            return 0
        } catch {
            FileHandleOutput.stderr("corral-agent update: \(error)\n")
            return 1
        }
    }
}

/// An exclusive lock on `.corral-agent.update.lock` beside the binary, held while it is replaced.
struct UpdateLock {
    let descriptor: Int32

    init(beside executable: String) throws(AgentUpdate.Failure) {
        let path = Files.parent(of: executable) + "/.corral-agent.update.lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AgentUpdate.Failure(
                "cannot open \(path): \(AgentUpdate.errorText()); is the agent's directory writable?"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw AgentUpdate.Failure("another update of \(executable) is running")
        }
    }

    /// Unlocks, then closes. Closing alone is not enough: a process forked meanwhile (another thread's spawn, before
    /// its exec) holds a duplicate of the descriptor, and the lock lasts until the last duplicate closes; the
    /// unlock ends it for all of them (AgentCommandTests.oneUpdateAtATimeBesideABinary met that in a loaded run).
    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
