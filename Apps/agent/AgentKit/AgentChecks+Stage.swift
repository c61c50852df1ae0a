import ClusterCore
import CorralSupport
import Glibc

extension AgentChecks {
    /// `[stage]`: the cache directory can be made and written, and each stage root is there and readable (a
    /// root whose file system is not mounted is most often missing or empty; the mount itself is the
    /// operator's: fstab or a systemd mount unit).
    static func stageChecks(_ configuration: AgentConfiguration) -> [Check] {
        guard let directory = configuration.stageCacheDir else { return [] }
        try? Files.makeDirectories(directory, mode: 0o711)
        let cache = writable(directory)
        var checks = [
            Check(
                name: "stage cache",
                required: true,
                ok: cache.ok,
                detail: cache.detail + ", \(ByteSize.format(configuration.stageCacheSize)) at most"
            )
        ]
        if configuration.stageRoots.isEmpty {
            checks.append(
                Check(name: "stage roots", required: false, ok: false, detail: "none: [stage] roots is empty")
            )
        }
        for root in configuration.stageRoots {
            let readable = Files.isDirectory(root) && access(root, R_OK | X_OK) == 0
            let empty = readable && Files.list(root).isEmpty
            checks.append(
                Check(
                    name: "stage root",
                    required: true,
                    ok: readable && !empty,
                    detail: readable
                        ? (empty ? "\(root) is empty: is its file system mounted?" : "\(root) readable")
                        : "\(root) is missing or unreadable: is its file system mounted?"
                )
            )
        }
        return checks
    }
}
