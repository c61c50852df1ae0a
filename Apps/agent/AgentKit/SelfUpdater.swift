import ClusterWire
import CorralSupport
import Glibc
import Synchronization

/// A rolling update's order, carried out in the agent (`corral nodes update`): install the build of the
/// version (`AgentUpdate.install`, every check of `corral-agent update`), then restart onto it by sending this
/// process SIGHUP, as `corral-agent update --restart` would. Once per rollout: a failure is reported in the
/// heartbeats until one is answered, and the agent runs on as it was.
actor SelfUpdater {
    let configuration: AgentConfiguration
    let log: any LogSink
    private var attempted: Set<String> = []
    /// What the next heartbeat reports, until one is answered.
    private(set) var pendingError: String?

    init(configuration: AgentConfiguration, log: any LogSink) {
        self.configuration = configuration
        self.log = log
        // A restart this process tried and could not do (it runs on as before): the rollout hears of it.
        pendingError = AgentRestart.lastFailure.withLock { $0 } ?? TrialGuard.takeNote()
    }

    func handle(_ order: AgentUpdateOrder) {
        guard attempted.insert(order.rollout).inserted else { return }
        log.info("rollout \(order.rollout): updating to corral-agent \(order.version)")
        Task { await carryOut(order) }
    }

    func answered() { pendingError = nil }

    private func carryOut(_ order: AgentUpdateOrder) async {
        do {
            let lock = try UpdateLock(beside: Agent.executable)
            defer { lock.release() }
            let build: AgentBuild
            switch try await AgentUpdate.install(configuration, executable: Agent.executable, version: order.version) {
            case .installed(let installed): build = installed
            case .alreadyInstalled(let installed): build = installed
            }
            guard build.sha256 != Agent.build else {
                log.info("rollout \(order.rollout): this agent runs corral-agent \(order.version) already")
                return
            }
            log.info("rollout \(order.rollout): installed corral-agent \(order.version); restarting onto it")
            kill(getpid(), SIGHUP)
        } catch {
            log.warning("rollout \(order.rollout): \(error)")
            pendingError = "\(error)"
        }
    }
}
