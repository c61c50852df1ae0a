import ClusterCore
import ClusterWire
import Testing

@testable import ControllerKit

/// Issue 20: the rules of a rolling agent update, as the pure functions they are.
@Suite struct RolloutRulesTests {
    typealias Facts = RolloutRules.NodeFacts
    let t0 = Timestamp(milliseconds: 1_800_000_000_000)

    func start(_ nodes: [String], parallel: Int) -> RolloutView {
        RolloutRules.start(id: "ro_1", version: "2.0", maxParallel: parallel, nodes: nodes, by: "admin", now: t0)
    }

    func phases(_ rollout: RolloutView) -> [String] { rollout.nodes.map(\.phase) }

    @Test func nodesTakeTheirTurnAtMostMaxParallelAtOnce() {
        var facts = [
            "a": Facts(ready: true, version: "1.0"), "b": Facts(ready: true, version: "1.0"),
            "c": Facts(ready: true, version: "1.0"),
        ]
        var rollout = RolloutRules.advance(start(["a", "b", "c"], parallel: 2), facts: facts, now: t0)
        #expect(phases(rollout) == ["updating", "updating", "waiting"])
        #expect(RolloutRules.order(rollout, node: "a") == AgentUpdateOrder(rollout: "ro_1", version: "2.0"))
        #expect(RolloutRules.order(rollout, node: "c") == nil)
        #expect(rollout.nodes[0].from == "1.0")
        // Nothing changes while no node has restarted onto the version.
        #expect(RolloutRules.advance(rollout, facts: facts, now: t0 + .seconds(5)) == rollout)
        facts["b"]?.version = "2.0"
        rollout = RolloutRules.advance(rollout, facts: facts, now: t0 + .seconds(10))
        #expect(phases(rollout) == ["updating", "done", "updating"])
        facts["a"]?.version = "2.0"
        facts["c"]?.version = "2.0"
        rollout = RolloutRules.advance(rollout, facts: facts, now: t0 + .seconds(20))
        #expect(phases(rollout) == ["done", "done", "done"] && rollout.state == "done" && rollout.finishedAt != nil)
        #expect(RolloutRules.order(rollout, node: "a") == nil)
    }

    @Test func nodesOnTheVersionAreDoneAndNodesNotReadyAreSkipped() {
        let facts = ["a": Facts(ready: true, version: "2.0"), "b": Facts(ready: false, version: "1.0")]
        let rollout = RolloutRules.advance(start(["a", "b", "gone"], parallel: 1), facts: facts, now: t0)
        #expect(phases(rollout) == ["done", "skipped", "skipped"])
        #expect(rollout.nodes[0].message == "already ran 2.0" && rollout.nodes[2].message == "the node was removed")
        #expect(rollout.state == "done")
    }

    @Test func aFailureStopsTheRolloutFromStartingAnotherNode() {
        var facts = [
            "a": Facts(ready: true, version: "1.0"), "b": Facts(ready: true, version: "1.0"),
            "c": Facts(ready: true, version: "1.0"),
        ]
        var rollout = RolloutRules.advance(start(["a", "b", "c"], parallel: 2), facts: facts, now: t0)
        rollout = RolloutRules.advance(
            rollout,
            facts: facts,
            failures: ["a": "SHA-256 mismatch"],
            now: t0 + .seconds(1)
        )
        #expect(phases(rollout) == ["failed", "updating", "waiting"] && rollout.state == "running")
        #expect(rollout.nodes[0].message == "SHA-256 mismatch")
        facts["b"]?.version = "2.0"
        rollout = RolloutRules.advance(rollout, facts: facts, now: t0 + .seconds(2))
        #expect(phases(rollout) == ["failed", "done", "waiting"] && rollout.state == "failed")
        #expect(RolloutRules.advance(rollout, facts: facts, now: t0 + .seconds(3)) == rollout, "a failed one is final")
    }

    @Test func aNodeThatNeverRestartsOrIsRemovedFails() {
        let facts = ["a": Facts(ready: true, version: "1.0"), "b": Facts(ready: true, version: "1.0")]
        var rollout = RolloutRules.advance(start(["a", "b"], parallel: 2), facts: facts, now: t0)
        rollout = RolloutRules.advance(rollout, facts: ["a": facts["a"]!], now: t0 + .seconds(1))
        #expect(phases(rollout) == ["updating", "failed"] && rollout.nodes[1].message == "the node was removed")
        rollout = RolloutRules.advance(rollout, facts: facts, now: t0 + RolloutRules.timeout + .seconds(1))
        #expect(phases(rollout) == ["failed", "failed"] && rollout.state == "failed")
        #expect(rollout.nodes[0].message?.contains("within 10 minutes") == true)
    }

    @Test func anAbortStartsNoOtherNode() {
        let facts = ["a": Facts(ready: true, version: "1.0"), "b": Facts(ready: true, version: "1.0")]
        let rollout = RolloutRules.advance(start(["a", "b"], parallel: 1), facts: facts, now: t0)
        let aborted = RolloutRules.abort(rollout, now: t0 + .seconds(1))
        #expect(aborted.state == "aborted" && phases(aborted) == ["updating", "skipped"])
        #expect(RolloutRules.order(aborted, node: "a") == nil)
        #expect(RolloutRules.advance(aborted, facts: facts, now: t0 + .seconds(2)) == aborted)
    }
}
