import Foundation

extension TestCluster {
    /// Runs a Slurm tool as users meet it: a link named `sbatch`, `squeue`... to the corral binary (what
    /// `just install-slurm-compat` makes), in `directory` (the submitting directory for sbatch).
    func slurm(
        _ tool: String,
        _ arguments: [String],
        in directory: String? = nil,
        env: [String: String] = [:]
    ) async throws -> Result {
        let link = try slurmLink(tool)
        let environment = environment(env)
        recordCommandLine([tool] + arguments)
        return try await offPool {
            try Self.runBlocking(link, arguments, environment, directory: directory ?? self.root)
        }
    }

    /// The link for `tool` in `ROOT/slurm-bin` (made the first time), for a PATH of Slurm's commands.
    @discardableResult
    func slurmLink(_ tool: String) throws -> String {
        let links = root + "/slurm-bin"
        let link = links + "/" + tool
        if !FileManager.default.fileExists(atPath: link) {
            try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Self.binaries + "/corral")
        }
        return link
    }
}
