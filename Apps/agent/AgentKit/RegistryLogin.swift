import CorralSupport
import LinuxSystem

/// Logs in to the configured private registry once, before the first container job (the password goes
/// through standard input, never the command line). A failure fails the launch, saying why.
enum RegistryLogin {
    /// Logs in when a registry is configured; returns whether it did.
    static func logIn(_ configuration: AgentConfiguration, log: any LogSink) async throws -> Bool {
        guard let registry = configuration.registry, let docker = configuration.docker,
            let username = configuration.registryUsername
        else { return false }
        let password = try configuration.registryPassword ?? Files.readSecret(configuration.registryPasswordFile ?? "")
        let arguments = ContainerJob.loginArguments(registry: registry, username: username)
        let result = await Threads.run {
            Result { () throws(ProcessError) in
                try CommandRunner.run(docker, arguments, timeout: .seconds(60), input: Array(password.utf8))
            }
        }
        let outcome = try result.get()
        guard outcome.status == 0 else {
            let detail = outcome.stderr.split(separator: "\n").first.map(String.init) ?? "status \(outcome.status)"
            throw AgentFailure("docker login to \(registry) as \(username) failed: \(detail)")
        }
        log.info("logged in to registry \(registry) as \(username)")
        return true
    }
}
