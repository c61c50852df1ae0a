import Testing

@testable import ControllerKit

/// When a requested scheduling pass runs (`ClusterState.passDelay`): at once on an idle controller, so a job
/// submitted to an idle cluster is placed without waiting to be batched (issue 16, submit to first instruction);
/// spaced by four times the last pass's planning, counted from its end, when passes come back to back, so the
/// state's actor keeps most of its time for submissions and reports however long the queue.
@Suite struct PassSpacingTests {
    @Test func aPassAfterAnIdleSpellRunsAtOnce() {
        #expect(ClusterState.passDelay(afterPassOf: 0.0001, idleFor: 1) == 0)
        #expect(ClusterState.passDelay(afterPassOf: 0.05, idleFor: 0.2) == 0)
        #expect(ClusterState.passDelay(afterPassOf: 0, idleFor: .infinity) == 0)
    }

    @Test func passesBackToBackAreSpacedFromTheLastOnesEnd() {
        // 2 ms at least, so that events arriving together share a pass.
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.0001, idleFor: 0) - 0.002) < 1e-12)
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.0001, idleFor: 0.0015) - 0.0005) < 1e-12)
        // Four times a long pass's planning, less what has passed since it ended.
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.01, idleFor: 0) - 0.04) < 1e-12)
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.01, idleFor: 0.03) - 0.01) < 1e-12)
        // At most half a second, whatever the queue.
        #expect(ClusterState.passDelay(afterPassOf: 2, idleFor: 0) == 0.5)
    }
}

/// A lazy pass (new jobs that cannot start now): 50 ms at least, twenty times the last planning, 30 seconds at
/// most.
@Suite struct LazyPassSpacingTests {
    @Test func aLazyPassWaitsLongerAndAtMostThirtySeconds() {
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.0001, idleFor: 0, lazy: true) - 0.05) < 1e-12)
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.01, idleFor: 0, lazy: true) - 0.2) < 1e-12)
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.01, idleFor: 0.15, lazy: true) - 0.05) < 1e-12)
        #expect(abs(ClusterState.passDelay(afterPassOf: 0.2, idleFor: 0, lazy: true) - 4) < 1e-12)
        #expect(ClusterState.passDelay(afterPassOf: 1, idleFor: 0, lazy: true) == 20)
        #expect(ClusterState.passDelay(afterPassOf: 2, idleFor: 0, lazy: true) == 30)
        #expect(ClusterState.passDelay(afterPassOf: 2, idleFor: 12, lazy: true) == 18)
        #expect(ClusterState.passDelay(afterPassOf: 0.0001, idleFor: 6, lazy: true) == 0)
    }
}
