import ClusterCore
import CorralSupport

extension AgentConfiguration {
    /// `[stage]` (issue 20): `cache_dir`, where staged copies live (an absolute path outside the state
    /// directory, which jobs may not enter); `cache_size`, the most they may take (bytes or a size such as
    /// "500G"); `roots`, the absolute paths sources must be below (an NFS mount, say). Without it, or without
    /// roots, the node stages nothing.
    mutating func applyStage(_ value: TOMLValue, path: String) throws(ConfigurationFailure) {
        guard case .table(let table) = value else {
            throw ConfigurationFailure("\(path): [stage] must be a table with cache_dir, cache_size, roots")
        }
        for key in table.keys {
            switch (key, table[key]) {
            case ("cache_dir", .string(let text)?) where text.hasPrefix("/") && text.count > 1:
                stageCacheDir = text
            case ("cache_size", .integer(let bytes)?) where bytes > 0: stageCacheSize = bytes
            case ("cache_size", .string(let text)?) where (ByteSize.parse(text) ?? 0) > 0:
                stageCacheSize = ByteSize.parse(text) ?? 0
            case ("roots", .array(let values)?):
                var roots: [String] = []
                for value in values {
                    guard case .string(let root) = value, root.hasPrefix("/"), root.count > 1, !root.contains(","),
                        !root.split(separator: "/").contains(".."), !root.utf8.contains(0)
                    else {
                        throw ConfigurationFailure(
                            "\(path): [stage] roots must be absolute paths such as \"/nfs\" (no ',' or '..')"
                        )
                    }
                    roots.append(root.hasSuffix("/") ? String(root.dropLast()) : root)
                }
                stageRoots = roots
            default: throw ConfigurationFailure("\(path): [stage] \(key) is unknown or has a bad value")
            }
        }
        guard let directory = stageCacheDir else {
            throw ConfigurationFailure("\(path): [stage] needs cache_dir, an absolute path")
        }
        guard directory != stateDir, !directory.hasPrefix(stateDir + "/") else {
            throw ConfigurationFailure(
                "\(path): [stage] cache_dir must be outside state_dir (jobs read their copies; the state dir is the agent's)"
            )
        }
        guard stageCacheSize > 0 else {
            throw ConfigurationFailure("\(path): [stage] needs cache_size, such as \"500G\"")
        }
    }

    func renderStage() -> TOMLTable? {
        guard let stageCacheDir else { return nil }
        var table = TOMLTable()
        table.set("cache_dir", .string(stageCacheDir))
        table.set("cache_size", .integer(stageCacheSize))
        table.set("roots", .array(stageRoots.map { .string($0) }))
        return table
    }
}
