import ClusterWire
import Foundation
import Glibc
import Testing

/// Whether this machine lets the test make network namespaces of its own: root, and `ip netns add` works
/// (tried with a namespace of the probe's own, removed at once). Not in the suite's type: `.enabled(if:)`
/// naming its own suite is a circular reference for the macro.
enum NetworkNamespaces {
    static let usable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: CutNetwork.ip) else { return false }
        let name = "crl-probe-" + CutNetwork.randomHex(4)
        let added = CutNetwork.ip(["netns", "add", name]).status == 0
        if added { _ = CutNetwork.ip(["netns", "del", name]) }
        return added
    }()
}

/// A network namespace the test makes itself and a veth pair into it with addresses of its own, a random /30 of
/// 10.251.0.0/16: `hostAddress` on `hostLink` in the root namespace, `innerAddress` on the peer inside. Nothing
/// else: no route out, no other address. Cutting takes `hostLink` down.
struct CutNetwork {
    static let ip = "/usr/sbin/ip"
    let namespace: String
    let hostLink: String
    let innerLink: String
    let hostAddress: String
    let innerAddress: String

    static func randomHex(_ count: Int) -> String {
        (0..<count).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
    }

    /// `ip ARGUMENTS`, to completion, on the calling thread.
    @discardableResult
    static func ip(_ arguments: [String]) -> TestCluster.Result {
        (try? TestCluster.runBlocking(ip, arguments, ProcessInfo.processInfo.environment))
            ?? TestCluster.Result(status: -1, stdout: "", stderr: "cannot run \(ip)")
    }

    /// Makes the namespace and the veth pair (names of at most 15 characters), both ends up, `lo` up inside.
    /// Whatever it made is removed again when a step fails.
    static func make() async throws -> CutNetwork {
        try await offPool {
            let id = randomHex(6)
            let used = ip(["-4", "-o", "addr", "show"]).stdout
            var subnet = ""
            for _ in 0..<20 {
                subnet = "10.251.\(Int.random(in: 0..<256)).\(4 * Int.random(in: 0..<64))"
                if !used.contains(" " + subnet.split(separator: ".").prefix(3).joined(separator: ".") + ".") { break }
            }
            let base = subnet.split(separator: ".").map(String.init)
            let last = Int(base[3])!
            let prefix = base.prefix(3).joined(separator: ".")
            let network = CutNetwork(
                namespace: "crl-\(id)",
                hostLink: "crlh-\(id)",
                innerLink: "crlp-\(id)",
                hostAddress: "\(prefix).\(last + 1)",
                innerAddress: "\(prefix).\(last + 2)"
            )
            let steps: [[String]] = [
                ["netns", "add", network.namespace],
                ["link", "add", network.hostLink, "type", "veth", "peer", "name", network.innerLink],
                ["link", "set", network.innerLink, "netns", network.namespace],
                ["addr", "add", "\(network.hostAddress)/30", "dev", network.hostLink],
                ["link", "set", network.hostLink, "up"],
                ["-n", network.namespace, "addr", "add", "\(network.innerAddress)/30", "dev", network.innerLink],
                ["-n", network.namespace, "link", "set", network.innerLink, "up"],
                ["-n", network.namespace, "link", "set", "lo", "up"],
            ]
            for step in steps {
                let result = ip(step)
                guard result.status == 0 else {
                    network.remove()
                    throw TestFailure("ip \(step.joined(separator: " ")) failed: \(result.stderr)")
                }
            }
            return network
        }
    }

    /// Deleting the host end removes the pair (whatever still runs in the namespace); then the namespace's name.
    func remove() {
        Self.ip(["link", "del", hostLink])
        Self.ip(["netns", "del", namespace])
    }

    func cut() async throws { try await set("down") }
    func mend() async throws { try await set("up") }

    private func set(_ state: String) async throws {
        let result = try await offPool { Self.ip(["link", "set", hostLink, state]) }
        guard result.status == 0 else { throw TestFailure("ip link set \(hostLink) \(state): \(result.stderr)") }
    }
}

/// Issue 18, the fault suite: a network cut between an agent and the controller, in a network namespace the test
/// makes itself. The controller listens on the host end of a veth pair; the agent runs in the namespace at the
/// other end; the test cuts the link, short (past the node timeout, within the allocation lease) and long (past
/// the lease), and mends it. Nothing acknowledged may be lost, nothing may run twice at once, and the stored logs
/// hold every byte the jobs wrote, once.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: NetworkNamespaces.usable))
struct NetworkCutChaosTests {
    /// Node timeout 2 s; allocation lease 16 s, so the agent's supervisors fence at 16 − 4 (grace, a quarter of
    /// the lease) − 1.6 (margin) = 10.4 s after the last renewal: a short cut has some 8 s between the node
    /// going LOST and the fence, for a loaded machine's slow polls to see it LOST (with 8 s, some 3 s were not
    /// always enough).
    static let lease = 16.0
    static let timings = ["--node-timeout", "2", "--allocation-lease", "\(Int(lease))", "--launch-lease", "3"]
    static let jobsPerCut = 2

    struct Counts {
        var jobs = 0
        var acknowledged = 0
        var succeeded = 0
        var attempts = 0
        var runs = 0
        var overlaps = 0
        var logBytesExpected = 0
        var logBytesStored = 0
    }

    @Test func aCutLinkLosesNothingRunsNothingTwiceAtOnceAndKeepsEveryLogByte() async throws {
        let network = try await CutNetwork.make()
        defer { network.remove() }
        let cluster = try TestCluster()
        defer {
            for agent in cluster.agents.values where agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
            cluster.killSupervisors()
        }
        cluster.host = network.hostAddress
        // Plain HTTP off loopback, on a veth pair no one else is on.
        try await cluster.startController(extra: Self.timings + ["--insecure"])
        let started = Date()
        try await cluster.startAgent("node", gpus: Self.jobsPerCut, namespace: network.namespace)
        try await cluster.configureCLI()
        try await waitUntil("the agent in the namespace is ready", timeout: 30) {
            try await Self.nodeStatus(cluster) == "READY"
        }
        // A controller judges no node lost within a lease of its start (its agents may not have heard of the
        // restart yet): a cut before then would go unnoticed past the fence.
        try await Task.sleep(for: .seconds(max(0, Self.lease + 1 - Date().timeIntervalSince(started))))
        let markers = cluster.root + "/markers"
        try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)

        let rounds = Chaos.size(small: 1, full: 5)
        var counts = Counts()
        var acknowledged: [String] = []
        for _ in 0..<rounds {
            acknowledged += try await shortCut(cluster, network, markers, &counts)
            acknowledged += try await longCut(cluster, network, markers, &counts)
        }
        let listed = Set(try await cluster.jobs().map(\.id))
        let lost = acknowledged.filter { !listed.contains($0) }.count
        Chaos.report(
            "network-cut",
            [
                "rounds": rounds, "jobs": counts.jobs, "acknowledged": counts.acknowledged,
                "succeeded": counts.succeeded, "attempts": counts.attempts, "runs": counts.runs,
                "overlaps": counts.overlaps, "logBytesExpected": counts.logBytesExpected,
                "logBytesStored": counts.logBytesStored, "lost": lost,
            ]
        )
        #expect(lost == 0)
        #expect(counts.acknowledged == counts.jobs)
        #expect(counts.succeeded == counts.jobs)
        #expect(counts.overlaps == 0)
        #expect(counts.logBytesStored == counts.logBytesExpected)
    }

    /// Past the node timeout, within the lease: the node is LOST at the controller, but its jobs run on, and
    /// once the link is back each ends SUCCEEDED in its one attempt, with its whole log.
    func shortCut(
        _ cluster: TestCluster,
        _ network: CutNetwork,
        _ markers: String,
        _ counts: inout Counts
    ) async throws -> [String] {
        let gate = markers + "/go-" + UUID().uuidString
        let ids = try await submitRunning(cluster, markers, gate: gate, &counts)
        try await network.cut()
        do {
            try await waitUntil("the controller finds the node lost", timeout: 30) {
                try await Self.nodeStatus(cluster) == "LOST"
            }
        } catch {
            try await network.mend()
            throw error
        }
        try await network.mend()
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        for id in ids {
            let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "CANCELED"], timeout: 90)
            try await check(cluster, done, markers, &counts)
            #expect(
                done.attempts.count == 1,
                "short cut: \(id) ran \(done.attempts.count) attempts: \(Self.describe(done))\n\(cluster.logs())"
            )
        }
        return ids
    }

    /// Past the lease: the agent's supervisors fence the jobs before the lease runs out, and the controller
    /// runs them again only after it; with the link back, each ends SUCCEEDED in its second attempt (on the one
    /// node), never twice at once, its last attempt's log whole.
    func longCut(
        _ cluster: TestCluster,
        _ network: CutNetwork,
        _ markers: String,
        _ counts: inout Counts
    ) async throws -> [String] {
        let gate = markers + "/go-" + UUID().uuidString
        let ids = try await submitRunning(cluster, markers, gate: gate, &counts)
        var groups: [String: Int32] = [:]
        for id in ids { groups[id] = try await cluster.job(id).attempts.last?.pid }
        try await network.cut()
        do {
            // The controller gives the first attempts up only when their lease has run out, by when their
            // supervisors must have killed them.
            for id in ids {
                _ = try await cluster.waitForState(id, ["QUEUED"], timeout: 60)
                if let group = groups[id] {
                    #expect(!processGroupRuns(group), "\(id)'s first attempt still runs after its lease ran out")
                }
            }
            try await Task.sleep(for: .seconds(1))
        } catch {
            try await network.mend()
            throw error
        }
        try await network.mend()
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        for id in ids {
            let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "CANCELED"], timeout: 90)
            try await check(cluster, done, markers, &counts)
            #expect(
                done.attempts.count == 2,
                "long cut: \(id) ran \(done.attempts.count) attempts: \(Self.describe(done))\n\(cluster.logs())"
            )
            #expect(done.attempts.first?.state == "LOST")
        }
        return ids
    }

    /// Submits `jobsPerCut` jobs, which tick until the file `gate` exists, and waits until they all run.
    func submitRunning(
        _ cluster: TestCluster,
        _ markers: String,
        gate: String,
        _ counts: inout Counts
    ) async throws -> [String] {
        var ids: [String] = []
        for _ in 0..<Self.jobsPerCut {
            counts.jobs += 1
            let result = try await cluster.corral(
                ["submit", "--gpus", "1", "--", "sh", "-c", Self.script(markers, gate: gate)]
            )
            #expect(result.status == 0, "submit failed: \(result.stderr)")
            let id = result.stdout.trimmed
            guard result.status == 0, !id.isEmpty else { continue }
            counts.acknowledged += 1
            ids.append(id)
        }
        for id in ids { _ = try await cluster.waitForState(id, ["RUNNING"], timeout: 60) }
        return ids
    }

    /// The final checks of one job: SUCCEEDED with exit 0 on the node; never two attempts at once; every
    /// attempt's stored log the lines that attempt printed (an ended one's, as many as it ticked, or one more
    /// when it was killed between the two), the last attempt's all of them (as many as it ticked: it ended by
    /// itself).
    func check(
        _ cluster: TestCluster,
        _ done: JobView,
        _ markers: String,
        _ counts: inout Counts
    ) async throws {
        let id = done.id
        #expect(done.state == "SUCCEEDED", "\(Self.describe(done))\n\(cluster.logs())")
        #expect(done.exitCode == 0)
        #expect(done.node == "node")
        if done.state == "SUCCEEDED" { counts.succeeded += 1 }
        counts.attempts += done.attempts.count
        counts.runs += RunMarkers.runs(directory: markers, job: id)
        let overlaps = RunMarkers.overlaps(directory: markers, job: id)
        counts.overlaps += overlaps
        #expect(overlaps == 0, "\(id) ran twice at once: \(RunMarkers.spans(directory: markers, job: id))")

        let marks = (try? String(contentsOfFile: "\(markers)/\(id)", encoding: .utf8)) ?? ""
        func ticked(_ attempt: Int) -> Int {
            marks.split(separator: "\n").filter { $0.hasPrefix("\(id).\(attempt) ") }.count
        }
        let expected = Self.lines(ticked(done.attempts.last?.attempt ?? 1))
        #expect(!expected.isEmpty, "\(id)'s last attempt never ticked")
        counts.logBytesExpected += expected.utf8.count
        var stored = ""
        do {
            try await waitUntil("\(id)'s log is whole", timeout: 60) {
                stored = try await cluster.corral(["logs", id]).stdout
                return stored == expected
            }
        } catch {
            // Kept as it is: the comparison below says what differs.
        }
        counts.logBytesStored += stored.utf8.count
        #expect(stored == expected, "\(id): log of \(stored.utf8.count) bytes, not \(expected.utf8.count)")

        for attempt in done.attempts.dropLast() {
            let ticks = ticked(attempt.attempt)
            let log = try await cluster.corral(["logs", "--attempt", "\(attempt.attempt)", id]).stdout
            #expect(
                log == Self.lines(ticks) || log == Self.lines(ticks + 1),
                "\(id).\(attempt.attempt) ticked \(ticks) times; its log: \(log.suffix(200))"
            )
        }
    }

    /// What each job runs: ticks of 100 ms, at least 20 and until the file `gate` exists (the test makes it
    /// once the link is mended: a fixed run could end, on a loaded machine, before the cut), each printing
    /// "line N" and appending its tick to the run markers (RunMarkers' format: "ALLOCATION NANOSECONDS" in
    /// DIR/JOB), then exit 0.
    static func script(_ markers: String, gate: String) -> String {
        """
        i=0; while [ $i -lt 20 ] || [ ! -e '\(gate)' ]; do echo "line $i"; \
        echo "$CORRAL_ALLOCATION_ID $(date +%s%N)" >> "\(markers)/$CORRAL_JOB_ID"; i=$((i+1)); sleep 0.1; done; exit 0
        """
    }

    static func lines(_ count: Int) -> String { (0..<count).map { "line \($0)\n" }.joined() }

    static func describe(_ job: JobView) -> String {
        job.attempts.map { "attempt \($0.attempt) \($0.state ?? "?") \($0.message ?? "")" }.joined(separator: "; ")
    }

    /// The node's status as `corral nodes --json` gives it (nil while it is not listed).
    static func nodeStatus(_ cluster: TestCluster) async throws -> String? {
        let result = try await cluster.corral(["nodes", "--json"])
        guard result.status == 0,
            let nodes = try? JSONDecoder.wire.decode([NodeView].self, from: Data(result.stdout.utf8))
        else { return nil }
        return nodes.first { $0.id == "node" }?.status
    }
}
