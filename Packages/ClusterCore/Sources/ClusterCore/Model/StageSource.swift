/// A file or directory a job has copied to its node's stage cache before it starts (`--stage SRC[:NAME]`,
/// issue 20): the job finds the copy at `$CORRAL_STAGE_<NAME>`.
public struct StageSource: Hashable, Sendable, Codable {
    /// An absolute path on the node (below a root its agent allows, such as an NFS mount).
    public var source: String
    /// 1-32 of A-Z, 0-9 and '_', not starting with a digit.
    public var name: String
    /// Check the copy against the source by SHA-256 of every file (`--stage-checksum`), each time a job uses
    /// it; nil or false: by size and modification time.
    public var checksum: Bool?

    public init(source: String, name: String, checksum: Bool? = nil) {
        self.source = source
        self.name = name
        self.checksum = checksum == true ? true : nil
    }

    public static let maxStages = 16

    /// `SRC[:NAME]`; without a name, the source's last component in capitals (`/nfs/models/llama-3` ->
    /// `LLAMA_3`).
    public static func parse(_ text: String) throws(SpecError) -> StageSource {
        var source = text
        var name: String?
        if let colon = text.lastIndex(of: ":"), !text[text.index(after: colon)...].contains("/") {
            source = String(text[..<colon])
            name = String(text[text.index(after: colon)...])
        }
        let stage = StageSource(source: source, name: name ?? defaultName(for: source))
        try validate([stage])
        return stage
    }

    public static func defaultName(for source: String) -> String {
        let last = source.split(separator: "/").last.map(String.init) ?? ""
        var name = String(
            last.uppercased().unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
                    ? Character(scalar) : "_"
            }
        )
        if name.first?.isNumber == true { name = "_" + name }
        return String(name.prefix(32))
    }

    public static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 32, !("0"..."9").contains(first)
        else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && (("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    /// At most 16, each an absolute path without `..` or NUL (at most 4096 bytes) and a name of its own.
    public static func validate(_ stages: [StageSource]) throws(SpecError) {
        guard stages.count <= maxStages else {
            throw SpecError(field: "stage", message: "at most \(maxStages) sources")
        }
        var names = Set<String>()
        for stage in stages {
            let path = stage.source
            guard path.hasPrefix("/"), path.utf8.count <= 4096, !path.utf8.contains(0),
                !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }), path != "/"
            else {
                throw SpecError(
                    field: "stage",
                    message: "'\(path.prefix(256))' must be an absolute path of a file or directory, without . or .."
                )
            }
            guard isName(stage.name) else {
                throw SpecError(
                    field: "stage",
                    message:
                        "name '\(stage.name.prefix(64))' must be 1-32 of A-Z, 0-9 and '_', not starting with a digit "
                        + "(give one: SRC:NAME)"
                )
            }
            guard stage.name != "DIR" else {
                throw SpecError(
                    field: "stage",
                    message: "DIR is taken (CORRAL_STAGE_DIR is the cache): give another name"
                )
            }
            guard names.insert(stage.name).inserted else {
                throw SpecError(field: "stage", message: "two sources are named \(stage.name): give each its own name")
            }
        }
    }
}
