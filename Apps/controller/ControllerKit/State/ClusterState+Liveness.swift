import ClusterCore
import ClusterStore
import CorralSupport

/// The slow tick: what `NodeLiveness.tick` decides (launch leases, silent nodes, LOST jobs whose lease ran
/// out, time limits), staged and stored in one transaction.
extension ClusterState {
    func tick() {
        let actions = NodeLiveness.tick(livenessView(now: clock.now()))
        guard !actions.isEmpty else { return }
        var changes = ChangeSet()
        stage(actions, in: &changes)
        do {
            try commit(changes)
        } catch {
            // Nothing changed in memory: the next tick decides again.
            log.error("cannot store what the liveness tick decided: \(error)")
        }
    }
}
