import ClusterCore
import ClusterWire
import CorralSupport
import FoundationEssentials
import Glibc
import HTTPKit

/// The agent builds a controller serves (issue 20), kept as files in DATA_DIR/agent-builds, one directory per
/// build named by its SHA-256:
///
///     agent-builds/<sha256>/corral-agent   the binary, as published (mode 0755)
///     agent-builds/<sha256>/build.json     its version, architecture, SHA-256, size and publication time
///
/// `corral-controller agents publish` writes a build into a temporary directory and renames it into place, so
/// a running controller, which reads the directory at each request, sees a build whole or not at all. The
/// directory is the store: copying a build's directory there publishes it too.
///
/// On PostgreSQL the database is the store (`AgentBuildCatalog`), shared by every controller, and the directory
/// keeps the copies a controller serves, made from the database at the first download of each build.
struct AgentBuildStore: Sendable {
    let directory: String
    let catalog: AgentBuildCatalog?

    /// Large enough for any agent build (a static one is about 50 MB), small enough to refuse a wrong file.
    static let maximumSize = 512 << 20

    init(dataDir: String, catalog: AgentBuildCatalog? = nil) {
        directory = dataDir + "/agent-builds"
        self.catalog = catalog
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Every published build, newest first (then by version).
    func list() -> [AgentBuild] { Self.newestFirst(catalog?.builds() ?? files()) }

    static func newestFirst(_ builds: [AgentBuild]) -> [AgentBuild] {
        builds.sorted { ($0.publishedAt, $0.version) > ($1.publishedAt, $1.version) }
    }

    /// The builds in the directory. One whose build.json is missing or does not match its name is skipped: half
    /// a copy, or something that is not a build.
    func files() -> [AgentBuild] {
        var builds: [AgentBuild] = []
        for name in Files.list(directory) where AgentBuild.isSHA256(name) {
            guard let build = file(name) else { continue }
            builds.append(build)
        }
        return builds
    }

    private func file(_ sha: String) -> AgentBuild? {
        guard let text = try? Files.read("\(directory)/\(sha)/build.json", limit: 4096),
            let build = try? WireJSON.decode(AgentBuild.self, from: Array(text.utf8)), build.sha256 == sha
        else { return nil }
        return build
    }

    func build(sha256: String) -> AgentBuild? { list().first { $0.sha256 == sha256 } }

    func binaryPath(of build: AgentBuild) -> String { "\(directory)/\(build.sha256)/corral-agent" }

    /// Makes sure the build's bytes are in the directory, to be served: on PostgreSQL they are copied from the
    /// database the first time (checked against their SHA-256). Copies are made one at a time, off the
    /// cooperative threads: the agents of a rollout asking for a build at once make one copy, not one each.
    func prepare(_ build: AgentBuild) async throws(Failure) {
        guard let catalog, !isCopied(build) else { return }
        try await catalog.serially { Result { () throws(Failure) in try copy(build, from: catalog) } }.get()
    }

    private func isCopied(_ build: AgentBuild) -> Bool {
        file(build.sha256) == build && Files.exists(binaryPath(of: build))
    }

    private func copy(_ build: AgentBuild, from catalog: AgentBuildCatalog) throws(Failure) {
        guard !isCopied(build) else { return }  // copied while this request waited its turn
        if Files.exists(binaryPath(of: build)), file(build.sha256)?.sha256 == build.sha256 {
            // Only its description changed (a signature added): the bytes, named by their SHA-256, stay.
            return try writeDescription(build)
        }
        let bytes: [UInt8]
        do {
            guard let stored = try catalog.binary(sha256: build.sha256) else { throw Failure("it is gone") }
            bytes = stored
        } catch {
            throw Failure("cannot read agent build \(build.sha256) from the database: \(error)")
        }
        guard Digest.sha256Hex(bytes) == build.sha256 else {
            throw Failure("agent build \(build.sha256) in the database does not have that SHA-256")
        }
        try write(build, bytes)
    }

    /// What publishing `bytes` as `version` comes to among the `published` builds (pure: `publish` carries it out).
    enum Decision: Equatable {
        /// The same bytes under the same version, already published: nothing changes.
        case unchanged(AgentBuild)
        /// The same build with a signature added or replaced.
        case signed(AgentBuild)
        case new(AgentBuild)

        var build: AgentBuild {
            switch self {
            case .unchanged(let build), .signed(let build), .new(let build): build
            }
        }
    }

    /// Publishing the same bytes under the same version again changes nothing; a version already published for
    /// the architecture with other bytes, or these bytes under another version, is refused (an agent's version
    /// must name one binary).
    static func decide(
        _ bytes: [UInt8],
        version: String,
        arch requested: String?,
        signature: [UInt8]?,
        now: Timestamp,
        published: [AgentBuild]
    ) throws(Failure) -> Decision {
        if let signature, signature.count != 64 {
            throw Failure(
                "the signature has \(signature.count) bytes: an Ed25519 signature has 64 (openssl pkeyutl -sign -rawin "
                    + "-inkey KEY -in FILE -out FILE.sig)"
            )
        }
        guard AgentBuild.isValidVersion(version) else {
            throw Failure(
                "--version '\(version.prefix(80))': use 1-64 letters, digits, '.', '_', '+' or '-', starting with a "
                    + "letter or digit (such as 1.4.0)"
            )
        }
        guard let arch = ELFHeader.architecture(of: bytes) else {
            throw Failure("this is not a corral-agent build: not a Linux x86_64 or aarch64 executable (ELF)")
        }
        if let requested, requested != arch {
            throw Failure("the binary is for \(arch), not \(requested) as --arch says")
        }
        let sha = Digest.sha256Hex(bytes)
        if let same = published.first(where: { $0.sha256 == sha }) {
            guard same.version == version else {
                throw Failure("this binary is already published as version \(same.version)")
            }
            guard let signature, same.signature != Data(signature).base64EncodedString() else {
                return .unchanged(same)
            }
            var signed = same
            signed.signature = Data(signature).base64EncodedString()
            return .signed(signed)
        }
        if let taken = published.first(where: { $0.version == version && $0.arch == arch }) {
            throw Failure(
                "version \(version) is already published for \(arch) as another binary (SHA-256 "
                    + "\(taken.sha256.prefix(12))...): publish this one under a new version"
            )
        }
        return .new(
            AgentBuild(
                version: version,
                arch: arch,
                sha256: sha,
                size: Int64(bytes.count),
                publishedAt: WireTime.format(now),
                signature: signature.map { Data($0).base64EncodedString() }
            )
        )
    }

    /// Stores `bytes` as the build of `version` (`decide` says what that comes to): in the database on
    /// PostgreSQL, which every controller serves from, else in the directory.
    func publish(
        _ bytes: [UInt8],
        version: String,
        arch: String?,
        signature: [UInt8]? = nil,
        now: Timestamp
    ) throws(Failure) -> (build: AgentBuild, new: Bool) {
        let decide = { @Sendable (published: [AgentBuild]) throws(Failure) -> Decision in
            try Self.decide(bytes, version: version, arch: arch, signature: signature, now: now, published: published)
        }
        let decision: Decision
        if let catalog {
            decision = try catalog.publish(bytes, decide)
        } else {
            decision = try decide(files())
        }
        switch decision {
        case .unchanged(let build): return (build, false)
        case .signed(let build):
            if catalog == nil { try writeDescription(build) }
            return (build, true)
        case .new(let build):
            if catalog == nil { try write(build, bytes) }
            return (build, true)
        }
    }

    private func writeDescription(_ build: AgentBuild) throws(Failure) {
        do {
            try Files.writeAtomically(
                "\(directory)/\(build.sha256)/build.json",
                WireJSON.encodePretty(build) + "\n",
                mode: 0o644
            )
        } catch {
            throw Failure("cannot store the signature: \(error)")
        }
    }

    /// Writes a build's directory whole: into a temporary one first, renamed into place (a copy already there,
    /// from an older description, is replaced).
    private func write(_ build: AgentBuild, _ bytes: [UInt8]) throws(Failure) {
        let sha = build.sha256
        // Its own name: two downloads of a build not copied yet may both copy it.
        let staging = "\(directory)/.publish-\(sha.prefix(16))-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try Files.makeDirectories(directory, mode: 0o755)
            removeTree(staging)
            try Files.makeDirectories(staging, mode: 0o755)
            try Files.writeAtomically(staging + "/corral-agent", bytes: bytes, mode: 0o755)
            try Files.writeAtomically(staging + "/build.json", WireJSON.encodePretty(build) + "\n", mode: 0o644)
        } catch {
            removeTree(staging)
            throw Failure("cannot store the build in \(directory): \(error)")
        }
        if Files.exists("\(directory)/\(sha)") { removeTree("\(directory)/\(sha)") }
        guard rename(staging, "\(directory)/\(sha)") == 0 else {
            let reason = String(cString: strerror(errno))
            removeTree(staging)
            throw Failure("cannot store the build in \(directory): \(reason)")
        }
        Files.syncDirectory(directory)
    }

    private func removeTree(_ path: String) {
        for name in Files.list(path) { unlink("\(path)/\(name)") }
        rmdir(path)
    }
}

/// Which architecture an executable is for, from its ELF header: 64-bit little-endian, executable or
/// position-independent, for x86-64 (machine 62) or AArch64 (183). Nil for anything else.
enum ELFHeader {
    static func architecture(of bytes: [UInt8]) -> String? {
        guard bytes.count >= 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46,
            bytes[4] == 2, bytes[5] == 1
        else { return nil }
        let type = UInt16(bytes[16]) | UInt16(bytes[17]) << 8
        guard type == 2 || type == 3 else { return nil }
        switch UInt16(bytes[18]) | UInt16(bytes[19]) << 8 {
        case 62: return "x86_64"
        case 183: return "aarch64"
        default: return nil
        }
    }
}
