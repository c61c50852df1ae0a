import ClusterWire
import Foundation
import HTTPKit
import Testing

/// Plays an agent over the real HTTP protocol, for behaviour a real agent would not show (never enforcing a
/// time limit). Stands in only for the agent; the controller is real.
struct StandInAgent {
    let cluster: TestCluster
    let node: String
    let client: HTTPClient

    static func register(_ cluster: TestCluster, node: String) async throws -> StandInAgent {
        let joiner = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.clusterToken)
        )
        let request = RegisterRequest(
            nodeId: node,
            hostname: node,
            bootId: "boot-\(node)",
            cpus: 4,
            memory: 1 << 30,
            gpus: [GPUReport(index: 0, uuid: "GPU-\(node)-0", name: "Stand-in")],
            labels: [:],
            agentVersion: "test",
            running: []
        )
        let response = try await joiner.execute(.post, "/v1/agents/register", body: WireJSON.encode(request))
        let answer = try JSONDecoder.wire.decode(RegisterResponse.self, from: Data(response.body))
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: answer.nodeToken)
        )
        return StandInAgent(cluster: cluster, node: node, client: client)
    }

    func assignments() async throws -> AssignmentsResponse {
        let response = try await client.execute(.get, "/v1/agents/\(node)/assignments?wait=5", timeout: .seconds(20))
        return try JSONDecoder.wire.decode(AssignmentsResponse.self, from: Data(response.body))
    }

    /// Waits for a launch, reports it starting and running, and returns its allocation id.
    func acceptNextLaunch() async throws -> String {
        for _ in 0..<10 {
            if let launch = try await assignments().launch.first {
                try await report(launch.allocationId, AllocationStatusRequest(phase: .starting))
                try await report(launch.allocationId, AllocationStatusRequest(phase: .running, pid: 999_999))
                return launch.allocationId
            }
        }
        throw TestFailure("no launch arrived")
    }

    /// A heartbeat listing `running`; returns the allocations the controller wants stopped.
    func pollStops(running: [String]) async throws -> [String] {
        let reports = running.map { RunningAllocation(allocationId: $0, pid: 999_999) }
        let response = try await client.execute(
            .post,
            "/v1/agents/\(node)/heartbeat",
            body: WireJSON.encode(HeartbeatRequest(bootId: "boot-\(node)", running: reports))
        )
        return try JSONDecoder.wire.decode(HeartbeatResponse.self, from: Data(response.body)).stop
    }

    func report(_ allocation: String, _ body: AllocationStatusRequest) async throws {
        let response = try await client.execute(
            .post,
            "/v1/allocations/\(allocation)/status",
            body: WireJSON.encode(body)
        )
        #expect(response.status == 200)
    }
}
