import ClusterCore
import Testing

@testable import ControllerKit

/// A pass asked for only by new jobs that cannot start now waits longer (`ClusterState.passDelay`, lazy): the
/// controller decides it from the room the last pass left (`PreparedNodes.largestFree`), on the real state and
/// its SQLite file.
@Suite struct LazyPassTests {
    static func spec(cpus: Int) -> JobSpec {
        var spec = JobSpec(command: ["true"])
        spec.resources = Resources(cpus: cpus)
        return spec
    }

    /// Within a microsecond (the delay goes through seconds as a Double).
    static func near(_ due: ContinuousClock.Instant?, _ expected: ContinuousClock.Instant) -> Bool {
        guard let due else { return false }
        return abs((due - expected) / .microseconds(1)) < 1
    }

    @Test func newJobsThatCannotStartAskForALazyPassOthersForAPromptOne() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let state = fixture.state
        // Before any pass the room is unknown: counted as room.
        #expect(
            await !state.mayWaitForPass([
                Job(id: JobID("x"), spec: Self.spec(cpus: 1), user: "u", submittedAt: fixture.clock.now())
            ])
        )
        _ = try await state.submit(Self.spec(cpus: 1), user: "alice")
        await state.runSchedulingPass()
        // No node at all: nothing asking for a CPU can start; a held job never can.
        #expect(await state.roomAfterPass?.room == Resources())
        let queued = Job(id: JobID("y"), spec: Self.spec(cpus: 1), user: "u", submittedAt: fixture.clock.now())
        var held = queued
        held.hold = JobHold(by: "alice", byAdmin: false, at: fixture.clock.now())
        #expect(await state.mayWaitForPass([queued, held]))
        // A job with dependencies never waits: one that already failed fails it at the next pass.
        var dependent = queued
        dependent.spec.dependsOn = [JobID("gone")]
        #expect(await !state.mayWaitForPass([dependent]))
        // A node stored since the last pass: its room is not known yet.
        await state.bumpNodesVersion()
        #expect(await !state.mayWaitForPass([queued]))
        await state.runSchedulingPass()
        #expect(await state.mayWaitForPass([queued]))
        // A job asking for nothing the room lacks might start: the batch asks for a prompt pass.
        #expect(
            await !state.mayWaitForPass([
                queued, Job(id: JobID("z"), spec: Self.spec(cpus: 0), user: "u", submittedAt: fixture.clock.now()),
            ])
        )

        // The spacing's origin held still, a minute ahead: a requested pass is then due exactly its spacing
        // after it, whatever time the submission's commit took (and none runs during the test).
        let origin = ContinuousClock.now + .seconds(60)
        await state.holdSpacing(lastPassEnded: origin, lastPassSeconds: 0)
        _ = try await state.submit(Self.spec(cpus: 1), user: "alice")
        let lazyDue = await state.passDue
        #expect(
            Self.near(lazyDue, origin + .milliseconds(50)),
            "a lazy pass: \(String(describing: lazyDue.map { $0 - origin }))"
        )
        // Any other event asks for a prompt pass, which the lazy one does not hold back.
        await state.requestSchedulingPass()
        #expect(Self.near(await state.passDue, origin + .milliseconds(2)), "a prompt pass")
        // A later lazy request does not put it off again.
        await state.requestSchedulingPass(lazy: true)
        #expect(Self.near(await state.passDue, origin + .milliseconds(2)))
        // A pass that stops early (here: the queue is empty) measures no room; the next new jobs ask for a
        // prompt pass until one commits again.
        for job in await state.queuedJobs() {
            _ = try await state.cancel(job, by: Principal(kind: .admin, subject: "admin"))
        }
        await state.runSchedulingPass()
        #expect(await state.roomAfterPass == nil)
        #expect(await !state.mayWaitForPass([queued]))
    }
}

extension LazyPassTests {
    /// The lazy pass does come: a submission to a cluster with no node asks for one, and it runs on its own
    /// (about 50 ms later; waited for up to ten seconds).
    @Test func aLazyPassRuns() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let state = fixture.state
        _ = try await state.submit(Self.spec(cpus: 1), user: "alice")
        await state.runSchedulingPass()
        let passes = await state.passDurations.count
        // Lazy (`newJobsThatCannotStart...` checks the choice); under load it may have run by the time the
        // submission returns, so only its running is waited for here.
        _ = try await state.submit(Self.spec(cpus: 1), user: "alice")
        let deadline = ContinuousClock.now + .seconds(10)
        while await state.passDurations.count == passes, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await state.passDurations.count > passes)
        #expect(await state.passDue == nil)
    }
}

extension ClusterState {
    func bumpNodesVersion() { nodesVersion += 1 }
    func queuedJobs() -> [JobID] { Array(queued) }

    func holdSpacing(lastPassEnded: ContinuousClock.Instant, lastPassSeconds: Double) {
        self.lastPassEnded = lastPassEnded
        self.lastPassSeconds = lastPassSeconds
    }
}
