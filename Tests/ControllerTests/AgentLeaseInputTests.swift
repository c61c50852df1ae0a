import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Foundation
import Testing

@testable import ControllerKit

/// The lease an agent says it holds steers when its jobs may run elsewhere, so what it sends is checked:
/// nonsense (negative, zero, beyond a day) is ignored, never taken as a lease; a plausible longer one is kept,
/// and written, so a restarted controller still waits for it.
@Suite struct AgentLeaseInputTests {
    static func registration(lease: Int?) -> RegisterRequest {
        RegisterRequest(
            nodeId: "gpu-1",
            hostname: "gpu-1",
            bootId: "boot",
            cpus: 4,
            memory: 1 << 30,
            gpus: [],
            labels: [:],
            agentVersion: "test",
            running: [],
            allocationLeaseMs: lease
        )
    }

    @Test(arguments: [-1, 0, Int.min, 86_400_001, Int.max])
    func nonsenseIsIgnored(_ milliseconds: Int) async throws {
        try await withState { state, _ in
            _ = try await state.register(Self.registration(lease: milliseconds))
            #expect(await state.nodes[NodeID("gpu-1")]?.agentLease == .seconds(120))
            let heartbeat = HeartbeatRequest(bootId: "boot", running: [], allocationLeaseMs: milliseconds)
            let answer = try await state.heartbeat(node: NodeID("gpu-1"), heartbeat)
            #expect(answer.allocationLeaseMs == 120_000)
            #expect(await state.nodes[NodeID("gpu-1")]?.agentLease == .seconds(120))
        }
    }

    @Test func aLongerLeaseIsKeptAcrossARestart() async throws {
        try await withState { state, restart in
            _ = try await state.register(Self.registration(lease: 600_000))
            #expect(await state.nodes[NodeID("gpu-1")]?.agentLease == .seconds(600))
            let restarted = try await restart()
            #expect(await restarted.nodes[NodeID("gpu-1")]?.agentLease == .seconds(600))
            // The agent reports it now holds the controller's lease: the stored one follows.
            let heartbeat = HeartbeatRequest(bootId: "boot", running: [], allocationLeaseMs: 120_000)
            _ = try await restarted.heartbeat(node: NodeID("gpu-1"), heartbeat)
            #expect(await restarted.nodes[NodeID("gpu-1")]?.agentLease == .seconds(120))
        }
    }

    /// `body` gets the state and a way to start another on its directory (a restart); the directory goes once
    /// their syncs are stopped (`APIFixture.remove`).
    func withState(_ body: (ClusterState, () async throws -> ClusterState) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)").path
        var settings = ControllerConfiguration()
        settings.dataDir = directory
        try Files.makeDirectories(directory, mode: 0o700)
        let walSync = WALSync(databasePath: settings.databasePath, log: MemoryLog())
        defer {
            walSync.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let start = {
            try await ClusterState(
                settings: settings,
                database: try ClusterDatabase(path: settings.databasePath),
                clock: SystemClock(),
                log: MemoryLog(),
                walSync: walSync
            )
        }
        try await body(try await start(), start)
    }
}
