import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// Live measurements through the real binaries: per-job CPU and memory from /proc (real processes), GPU
/// utilization and per-process GPU memory from nvidia-smi. This machine has no GPU, so nvidia-smi is a
/// stand-in script that answers the agent's two queries in the format recorded on a real H100
/// (Tests/NodeProbeTests/Fixtures/h100-real: query-gpu.csv, compute-apps-running.csv).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct UsageTests {
    static let uuid = "GPU-f9ddd33c-f036-88f2-ac7d-8d315a4560b7"

    /// Writes the stand-in: utilization comes from the file `util`, and the process named in `gpu-pid` (if
    /// any) holds 710 MiB on the GPU.
    static func standInNvidiaSMI(in directory: String) throws -> String {
        let path = directory + "/nvidia-smi"
        let script = """
            #!/bin/sh
            # Stand-in for nvidia-smi: this machine has no NVIDIA GPU.
            case "$1" in
            --query-gpu=*)
                echo "0, \(uuid), NVIDIA H100 80GB HBM3, 00000000:00:06.0, 81559, 710, $(cat \(directory)/util), 39, 123.30, 0, Disabled, 580.159.04" ;;
            --query-compute-apps=*)
                if [ -s \(directory)/gpu-pid ]; then echo "$(cat \(directory)/gpu-pid), \(uuid), 710, /usr/bin/python3"; fi ;;
            *) echo "unexpected arguments: $*" >&2; exit 2 ;;
            esac

            """
        try writeExecutable(path, script)
        try "5\n".write(toFile: directory + "/util", atomically: true, encoding: .utf8)
        return path
    }

    /// A controller, the CLI, and an agent on node `gpu-node` that finds its GPU through the stand-in.
    static func gpuCluster() async throws -> (cluster: TestCluster, tools: String, nvidiaSMI: String) {
        let cluster = try TestCluster()
        let tools = cluster.root + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let nvidiaSMI = try standInNvidiaSMI(in: tools)
        try await cluster.startController()
        try await cluster.startAgent("gpu-node", gpus: 0, nvidiaSMI: nvidiaSMI)
        try await cluster.configureCLI()
        return (cluster, tools, nvidiaSMI)
    }

    @Test func nodesShowLiveGPUUtilizationAndJobsTheirUsage() async throws {
        let (cluster, tools, _) = try await Self.gpuCluster()
        try await waitUntil("the node registers its detected GPU", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("0/1")
        }

        // Utilization is measured again for every heartbeat, not only at registration.
        try "37\n".write(toFile: tools + "/util", atomically: true, encoding: .utf8)
        try await waitUntil("corral nodes shows the new utilization", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("37%")
        }
        let table = try await cluster.corral(["nodes"])
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.contains("GPU UTIL") == true)
        // Columns line up: each value starts where its header does.
        let header = String(try #require(lines.first))
        let row = String(try #require(lines.last))
        let column = try #require(header.range(of: "GPU UTIL")).lowerBound.utf16Offset(in: header)
        #expect(row.dropFirst(column).hasPrefix("37%"), "\(table.stdout)")
        let shown = try await cluster.corral(["nodes", "show", "gpu-node"])
        #expect(shown.stdout.contains("UTIL") && shown.stdout.contains("37%") && shown.stdout.contains("710 MiB"))
        let json = try await cluster.corral(["nodes", "--json"])
        #expect(json.stdout.contains("\"utilization\" : 37"), "\(json.stdout)")

        // A job that burns some CPU, holds some memory, and (says the stand-in) 710 MiB of GPU memory.
        let script = "echo $$ > \(tools)/gpu-pid; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 600"
        let id = try await cluster.submit(["--gpus", "1"], ["sh", "-c", script])
        _ = try await cluster.waitForState(id, ["RUNNING"])
        var running: JobView?
        try await waitUntil("the job's usage is sampled", timeout: 30) {
            running = try await cluster.job(id)
            return (running?.usage?.cpuSeconds ?? 0) > 0 && running?.usage?.gpuMemoryMib == 710
        }
        let usage = try #require(running?.usage)
        #expect(usage.memory > 0 && usage.peakMemory >= usage.memory)
        let show = try await cluster.corral(["show", id])
        #expect(show.stdout.contains("usage:") && show.stdout.contains("CPU-seconds"), "\(show.stdout)")
        #expect(show.stdout.contains("710 MiB GPU memory"))

        // The final account is kept with the attempt once the job has ended.
        let cancel = try await cluster.corral(["cancel", id])
        #expect(cancel.status == 0)
        try await waitUntil("the ended attempt keeps its usage", timeout: 30) {
            let job = try await cluster.job(id)
            return job.attempts.last?.endedAt != nil && job.attempts.last?.usage != nil
        }
        let ended = try await cluster.job(id)
        #expect((ended.usage?.cpuSeconds ?? 0) >= usage.cpuSeconds)
        #expect(ended.usage?.gpuMemoryMib == 710)
        let final = try await cluster.corral(["show", id]).stdout
        #expect(final.contains("used:") && final.contains("peak") && final.contains("710 MiB GPU memory"), "\(final)")
    }

    /// A GPU query that hangs (broken GPUs make nvidia-smi hang) holds back no heartbeat: they go on while it
    /// waits out its 10 s timeout, after which the node says it is UNHEALTHY.
    @Test func aHangingNvidiaSMIDelaysNoHeartbeat() async throws {
        let (cluster, _, nvidiaSMI) = try await Self.gpuCluster()
        try await waitUntil("the node is READY", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        try writeExecutable(nvidiaSMI, "#!/bin/sh\nexec sleep 60\n")
        func lastSeen() async throws -> String {
            let nodes = try await cluster.corral(["nodes", "--json"]).stdout
            let list = try JSONDecoder.wire.decode([NodeView].self, from: Data(nodes.utf8))
            return list.first?.lastHeartbeat ?? ""
        }
        try await Task.sleep(for: .seconds(2))
        let before = try await lastSeen()
        try await Task.sleep(for: .seconds(2))
        #expect(try await lastSeen() != before, "heartbeats go on while the GPU query hangs")
        try await waitUntil("the node turns UNHEALTHY once the query times out", timeout: 30) {
            (try await cluster.corral(["nodes"])).stdout.contains("UNHEALTHY")
        }
    }

    /// When nvidia-smi stops answering, the node says it is unhealthy rather than taking work it may not run.
    @Test func aFailingNvidiaSMIMakesTheNodeUnhealthy() async throws {
        let (cluster, _, nvidiaSMI) = try await Self.gpuCluster()
        try await waitUntil("the node is READY", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        try writeExecutable(
            nvidiaSMI,
            "#!/bin/sh\necho 'Unable to determine the device handle for GPU0000:00:06.0: Unknown Error' >&2\nexit 15\n"
        )
        try await waitUntil("the node turns UNHEALTHY", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("UNHEALTHY")
        }
    }
}

/// The agent checks itself before every heartbeat: a node that cannot keep its job logs says so and gets no
/// new work, and recovers when the problem is gone.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SelfCheckTests {
    @Test func aNodeThatCannotWriteItsLogsIsUnhealthyUntilItCan() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("the node is READY", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        try await waitUntil("a heartbeat reports the free disk", timeout: 60) {
            (try await cluster.corral(["nodes", "show", "node"])).stdout.contains("disk free:")
        }
        let logs = cluster.stateDir(agent: "node") + "/logs"
        try FileManager.default.moveItem(atPath: logs, toPath: logs + ".away")
        _ = FileManager.default.createFile(atPath: logs, contents: Data())
        try await waitUntil("the node turns UNHEALTHY, saying why", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("\(logs) is not a directory")
        }
        let id = try await cluster.submit(["--gpus", "1"], ["true"])
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await cluster.job(id).state == "QUEUED", "an unhealthy node takes no work")
        try FileManager.default.removeItem(atPath: logs)
        try FileManager.default.moveItem(atPath: logs + ".away", toPath: logs)
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(done.state == "SUCCEEDED")
    }
}

/// Topology-aware placement through the real binaries: the agent reads `nvidia-smi topo -m` (a stand-in
/// printing a 4-GPU PCIe server: GPUs 0-1 and 2-3 behind one switch each, the pairs on different sockets), and
/// a 2-GPU job lands behind one switch even where adjacent indices would cross sockets.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TopologyTests {
    @Test func twoGPUsGoBehindOneSwitch() async throws {
        let cluster = try TestCluster()
        let tools = cluster.root + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let gpus = (0..<4).map {
            "\($0), GPU-0000000\($0)-aaaa-bbbb-cccc-dddddddddddd, NVIDIA L40S, 00000000:0\($0):00.0, 46068, 0, 0, 30, "
                + "80.00, 0, [N/A], 580.159.04"
        }
        let topology = """
            \t\u{1B}[4mGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\u{1B}[0m
            GPU0\t X \tPIX\tSYS\tSYS\t0-15\t0\t\tN/A
            GPU1\tPIX\t X \tSYS\tSYS\t0-15\t0\t\tN/A
            GPU2\tSYS\tSYS\t X \tPIX\t16-31\t1\t\tN/A
            GPU3\tSYS\tSYS\tPIX\t X \t16-31\t1\t\tN/A
            """
        try gpus.joined(separator: "\n").write(toFile: tools + "/query.csv", atomically: true, encoding: .utf8)
        try topology.write(toFile: tools + "/topo.txt", atomically: true, encoding: .utf8)
        let nvidiaSMI = tools + "/nvidia-smi"
        try writeExecutable(
            nvidiaSMI,
            """
            #!/bin/sh
            # Stand-in for nvidia-smi: this machine has no NVIDIA GPU.
            case "$1" in
            --query-gpu=*) cat \(tools)/query.csv ;;
            --query-compute-apps=*) ;;
            topo) cat \(tools)/topo.txt ;;
            *) exit 2 ;;
            esac

            """
        )
        try await cluster.startController()
        try await cluster.startAgent("pcie", gpus: 0, nvidiaSMI: nvidiaSMI)
        try await cluster.configureCLI()
        try await waitUntil("the node registers 4 GPUs", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("0/4")
        }
        let shown = try await cluster.corral(["nodes", "show", "pcie"])
        #expect(shown.stdout.contains("topology"), "\(shown.stdout)")
        #expect(shown.stdout.contains("PIX") && shown.stdout.contains("SYS"))

        let first = try await cluster.submit(["--gpus", "1"], ["sleep", "600"])
        #expect(try await cluster.waitForState(first, ["RUNNING"]).gpuIndices == [0])
        let pair = try await cluster.submit(["--gpus", "2"], ["sleep", "600"])
        #expect(try await cluster.waitForState(pair, ["RUNNING"]).gpuIndices == [2, 3])
    }
}

/// `GET /metrics` from the real controller, in the Prometheus text format, with real jobs and a node that
/// measures its (stand-in) GPU.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MetricsTests {
    @Test func metricsCountJobsNodesAndGPUsInPrometheusFormat() async throws {
        let (cluster, _, _) = try await UsageTests.gpuCluster()
        try await waitUntil("the GPU is measured", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("5%")
        }
        let done = try await cluster.submit([], ["true"])
        _ = try await cluster.waitForState(done, ["SUCCEEDED"])
        let running = try await cluster.submit(["--gpus", "1"], ["sleep", "600"])
        _ = try await cluster.waitForState(running, ["RUNNING"])
        _ = try await cluster.submit(["--gpus", "4"], ["true"])  // more GPUs than any node has: QUEUED

        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        let response = try await client.execute(.get, "/metrics")
        #expect(response.status == 200)
        #expect(response.headers.values("Content-Type").first?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(decoding: response.body, as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            #"corral_jobs{state="SUCCEEDED"} 1"#, #"corral_jobs{state="RUNNING"} 1"#, #"corral_jobs{state="QUEUED"} 1"#,
            #"corral_jobs{state="FAILED"} 0"#, #"corral_queue_pending_jobs{queue="default"} 1"#,
            #"corral_queue_gpus_in_use{queue="default"} 1"#, #"corral_nodes{status="READY"} 1"#,
            #"corral_node_gpus_allocated{node="gpu-node"} 1"#,
            #"corral_gpu_utilization_percent{gpu="0",node="gpu-node",uuid="\#(UsageTests.uuid)"} 5"#,
            #"corral_gpu_memory_used_bytes{gpu="0",node="gpu-node",uuid="\#(UsageTests.uuid)"} \#(710 << 20)"#,
        ] {
            #expect(lines.contains(expected), "missing \(expected) in\n\(text)")
        }
        // Every sample belongs to a family announced by HELP and TYPE before it (a histogram's by its _bucket,
        // _sum and _count series); values are numbers, integers but for histogram sums.
        var announced: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                announced.insert(String(parts[2]))
                if parts[3] == "histogram" {
                    for suffix in ["_bucket", "_count"] { announced.insert(parts[2] + suffix) }
                }
                if parts[3] == "histogram" { announced.insert(parts[2] + "_sum") }
            }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            #expect(announced.contains(name), "\(line)")
            let value = line.split(separator: " ").last ?? ""
            #expect(name.hasSuffix("_sum") ? Double(value) != nil : Int64(value) != nil, "\(line)")
        }

        // Counts come back after a restart (from the database, not a scan per scrape).
        cluster.killController()
        try await cluster.startController()
        let again = String(decoding: try await client.execute(.get, "/metrics").body, as: UTF8.self)
        #expect(again.contains(#"corral_jobs{state="SUCCEEDED"} 1"#))

        // Like every endpoint but /healthz, it wants a token.
        let anonymous = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint))
        #expect(try await anonymous.execute(.get, "/metrics").status == 401)
    }
}

/// What a registering node says is checked before the controller keeps it: strings that reach terminals and
/// /metrics must be printable, and a topology must be a square matrix with X on the diagonal over GPUs 0..<n.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RegistrationInputTests {
    @Test func hostileStringsAreRefusedAndBadTopologiesDropped() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        let joiner = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.clusterToken)
        )
        func register(
            _ node: String,
            gpus: [GPUReport],
            hostname: String? = nil,
            topology: [[String]]?
        ) async throws
            -> Int
        {
            let request = RegisterRequest(
                nodeId: node,
                hostname: hostname ?? node,
                bootId: "b",
                cpus: 4,
                memory: 1 << 30,
                gpus: gpus,
                labels: [:],
                agentVersion: "test",
                running: [],
                gpuTopology: topology
            )
            return try await joiner.execute(.post, "/v1/agents/register", body: WireJSON.encode(request)).status
        }
        let two = [GPUReport(index: 0, uuid: "GPU-0", name: "L4"), GPUReport(index: 1, uuid: "GPU-1", name: "L4")]
        let good = [["X", "PIX"], ["PIX", "X"]]
        for hostile in ["GPU-1\r\ncorral_fake 1", "GPU-\u{1B}[2J", String(repeating: "x", count: 300)] {
            let gpus = [GPUReport(index: 0, uuid: hostile, name: "L4")]
            #expect(try await register("bad", gpus: gpus, topology: nil) == 400, "\(hostile.debugDescription)")
        }
        #expect(try await register("bad", gpus: two, hostname: "a\nb", topology: nil) == 400)
        #expect(!(try await cluster.corral(["nodes"])).stdout.contains("bad"), "a refused node is not kept")

        #expect(try await register("kept", gpus: two, topology: good) == 200)
        let cases: [(String, [GPUReport], [[String]])] = [
            ("ragged", two, [["X", "PIX"], ["PIX"]]),
            ("no-diagonal", two, [["PIX", "PIX"], ["PIX", "PIX"]]),
            ("long-code", two, [["X", "NVLINKFOREVER"], ["NVLINKFOREVER", "X"]]),
            ("odd-code", two, [["X", "P\nX"], ["P\nX", "X"]]),
            ("sparse", [GPUReport(index: 1, uuid: "a", name: "L4"), GPUReport(index: 2, uuid: "b", name: "L4")], good),
        ]
        for (node, gpus, topology) in cases {
            #expect(try await register(node, gpus: gpus, topology: topology) == 200)
        }
        let views = try JSONDecoder.wire.decode(
            [NodeView].self,
            from: Data(try await cluster.corral(["nodes", "--json"]).stdout.utf8)
        )
        #expect(views.first { $0.id == "kept" }?.gpuTopology == good)
        for (node, _, _) in cases {
            #expect(views.first { $0.id == node }?.gpuTopology == nil, "\(node) keeps no topology")
        }
    }
}
