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
struct AgentBuildStore: Sendable {
    let directory: String

    /// Large enough for any agent build (a static one is about 50 MB), small enough to refuse a wrong file.
    static let maximumSize = 512 << 20

    init(dataDir: String) { directory = dataDir + "/agent-builds" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Every published build, newest first (then by version). A directory whose build.json is missing or does
    /// not match its name is skipped: half a copy, or something that is not a build.
    func list() -> [AgentBuild] {
        var builds: [AgentBuild] = []
        for name in Files.list(directory) where AgentBuild.isSHA256(name) {
            guard let text = try? Files.read("\(directory)/\(name)/build.json", limit: 4096),
                let build = try? WireJSON.decode(AgentBuild.self, from: Array(text.utf8)),
                build.sha256 == name
            else { continue }
            builds.append(build)
        }
        return builds.sorted { ($0.publishedAt, $0.version) > ($1.publishedAt, $1.version) }
    }

    func build(sha256: String) -> AgentBuild? { list().first { $0.sha256 == sha256 } }

    func binaryPath(of build: AgentBuild) -> String { "\(directory)/\(build.sha256)/corral-agent" }

    /// Stores `bytes` as the build of `version`. Publishing the same bytes under the same version again changes
    /// nothing; a version already published for the architecture with other bytes, or these bytes under
    /// another version, is refused (an agent's version must name one binary).
    func publish(
        _ bytes: [UInt8],
        version: String,
        arch requested: String?,
        signature: [UInt8]? = nil,
        now: Timestamp
    ) throws(Failure) -> (build: AgentBuild, new: Bool) {
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
        let published = list()
        if let same = published.first(where: { $0.sha256 == sha }) {
            guard same.version == version else {
                throw Failure("this binary is already published as version \(same.version)")
            }
            guard let signature, same.signature != Data(signature).base64EncodedString() else { return (same, false) }
            // A signature added (or replaced) later: the same build, signed now.
            var signed = same
            signed.signature = Data(signature).base64EncodedString()
            do {
                try Files.writeAtomically(
                    "\(directory)/\(sha)/build.json",
                    WireJSON.encodePretty(signed) + "\n",
                    mode: 0o644
                )
            } catch {
                throw Failure("cannot store the signature: \(error)")
            }
            return (signed, true)
        }
        if let taken = published.first(where: { $0.version == version && $0.arch == arch }) {
            throw Failure(
                "version \(version) is already published for \(arch) as another binary (SHA-256 "
                    + "\(taken.sha256.prefix(12))...): publish this one under a new version"
            )
        }
        let build = AgentBuild(
            version: version,
            arch: arch,
            sha256: sha,
            size: Int64(bytes.count),
            publishedAt: WireTime.format(now),
            signature: signature.map { Data($0).base64EncodedString() }
        )
        let staging = "\(directory)/.publish-\(sha.prefix(16))-\(getpid())"
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
        guard rename(staging, "\(directory)/\(sha)") == 0 else {
            let reason = String(cString: strerror(errno))
            removeTree(staging)
            throw Failure("cannot store the build in \(directory): \(reason)")
        }
        Files.syncDirectory(directory)
        return (build, true)
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
