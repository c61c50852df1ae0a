import ClusterCore
import CorralSupport
import Glibc
import HTTPKit

/// `corral-controller rotate-join-token [--data-dir DIR | --config FILE]`: writes a new cluster join token to
/// DIR/cluster.token and prints it. A running controller takes it within five seconds and refuses the old one
/// from then on; registered nodes register again with their own tokens, so they notice nothing. Only nodes
/// that join for the first time (or that an admin lets join again) need the new one.
enum JoinTokenRotation {
    static func main(_ arguments: [String]) -> Int32 {
        let configuration: ControllerConfiguration
        do {
            configuration = try ControllerConfiguration.parse(arguments)
        } catch {
            if error.isHelp {
                FileHandleOutput.stdout("usage: corral-controller rotate-join-token [--data-dir DIR] [--config FILE]\n")
                return 0
            }
            FileHandleOutput.stderr(
                "corral-controller rotate-join-token: \(error.message)\n"
                    + "usage: corral-controller rotate-join-token [--data-dir DIR] [--config FILE]\n"
            )
            return 2
        }
        let path = configuration.clusterTokenPath
        guard Files.exists(configuration.databasePath) else {
            FileHandleOutput.stderr(
                "corral-controller rotate-join-token: no controller data in \(configuration.dataDir) "
                    + "(give --data-dir DIR)\n"
            )
            return 1
        }
        let token = SecureRandom.token(prefix: "crj_", bytes: 24)
        do {
            try Files.writeAtomically(path, token + "\n", mode: 0o600)
            // Run as root for a controller that runs as its own account: the file stays that account's.
            var info = stat()
            if stat(configuration.dataDir, &info) == 0 { _ = chown(path, info.st_uid, info.st_gid) }
        } catch {
            FileHandleOutput.stderr("corral-controller rotate-join-token: \(error)\n")
            return 1
        }
        FileHandleOutput.stdout(token + "\n")
        FileHandleOutput.stderr(
            "wrote the new join token to \(path); the running controller refuses the old one within 5 s "
                + "(or at its next start). Registered nodes keep their own tokens; configure new nodes with "
                + "`corral-agent configure --cluster-token-file FILE`\n"
        )
        return 0
    }
}
