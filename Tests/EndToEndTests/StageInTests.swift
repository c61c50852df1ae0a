import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

/// Issue 20, stage-in, with the real binaries and real Unix accounts (root only: useradd, and copies made as
/// the job's account through setpriv). The "NFS mount" is a directory of the test's own named as the agent's
/// stage root: what the agent does with it is the same.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: getuid() == 0, "needs root: accounts of its own"))
struct StageInTests {
    @Test func jobsShareOneCopyTheCacheStaysInItsBoundAndUnreadableSourcesFail() async throws {
        let cluster = try TestCluster()
        let accounts = TestAccounts()
        let alice = try accounts.make("alice")
        let nfs = cluster.root + "/nfs"
        let cache = cluster.root + "/stage-cache"
        try FileManager.default.createDirectory(atPath: nfs, withIntermediateDirectories: true)
        chmod(cluster.root, 0o755)
        // alice's data: a 200 MB directory (four files) and a 150 MB one, hers alone; and root's secret.
        func shell(_ script: String) throws {
            let result = try TestCluster.runBlocking("/bin/sh", ["-c", script], [:])
            #expect(result.status == 0, "\(script): \(result.stderr)")
        }
        try shell(
            """
            set -e; cd '\(nfs)'; mkdir model other
            for i in 1 2 3 4; do head -c 50000000 /dev/urandom > model/part$i; done
            head -c 150000000 /dev/urandom > other/blob; echo secret > secret.txt; chmod 600 secret.txt
            chown -R \(alice.uid):\(alice.gid) model other; chmod -R go-rwx model other
            """
        )
        let limit: Int64 = 300_000_000
        try await cluster.startController(accounts: [])
        try await cluster.startAgent(
            "n1",
            gpus: 0,
            tables: "[stage]\ncache_dir = \"\(cache)\"\ncache_size = \(limit)\nroots = [\"\(nfs)\"]"
        )
        try await cluster.configureCLI()
        // preflight: the cache is writable and the root is there; a root that is not (unmounted) fails it.
        let config = cluster.root + "/n1.toml"
        let preflight = try await cluster.run("corral-agent", ["preflight", "--config", config])
        #expect(
            preflight.stdout.contains("\(nfs) readable") && preflight.stdout.contains("stage cache"),
            "\(preflight.stdout)"
        )
        let unmounted = cluster.root + "/n1-unmounted.toml"
        try cluster.read(config).replacingOccurrences(of: "\"\(nfs)\"", with: "\"\(nfs)-not-mounted\"")
            .write(toFile: unmounted, atomically: true, encoding: .utf8)
        chmod(unmounted, 0o600)
        let failed = try await cluster.run("corral-agent", ["preflight", "--config", unmounted])
        #expect(
            failed.status == 1 && failed.stdout.contains("is missing or unreadable: is its file system mounted?"),
            "\(failed.stdout)"
        )
        let created = try await cluster.corral([
            "tokens", "create", "--user", "alice", "--unix-user", alice.name, "--json",
        ])
        let token = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        let out = cluster.root + "/out"
        try makeDirectory(out, owner: alice, mode: 0o755)
        func submit(_ stages: [String], _ script: String, flag: String = "--stage") async throws -> String {
            let result = try await cluster.corral(
                ["submit", "--cwd", out] + stages.flatMap { [flag, $0] } + ["--", "/bin/sh", "-c", script],
                env: ["CORRAL_TOKEN": token]
            )
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        /// The cache's size on disk never passes its bound, and the node says what it holds.
        func checkBound(_ step: String) async throws {
            let du = try TestCluster.runBlocking("/usr/bin/du", ["-s", "-B1", "--apparent-size", cache], [:])
            let used = Int64(du.stdout.split(separator: "\t").first ?? "") ?? .max
            #expect(used <= limit + 1_000_000, "\(step): the cache holds \(used) bytes, more than \(limit)")
        }
        func staged(_ source: String) -> Int { cluster.logs().components(separatedBy: "staged \(source) ").count - 1 }
        let expected = try TestCluster.runBlocking("/bin/sh", ["-c", "cd '\(nfs)/model' && md5sum part*"], [:]).stdout

        // Two jobs stage the same directory at once: one copy, one path, the same bytes.
        let gate = out + "/gate"
        let script =
            "echo \"$CORRAL_STAGE_MODEL\"; cd \"$CORRAL_STAGE_MODEL\" && md5sum part*; while [ ! -e \(gate) ]; do sleep 0.1; done"
        let first = try await submit(["\(nfs)/model"], script)
        let second = try await submit(["\(nfs)/model:MODEL"], script)
        for job in [first, second] { _ = try await cluster.waitForState(job, ["RUNNING"], timeout: 120) }
        try await checkBound("two jobs running")
        #expect(staged("\(nfs)/model") == 1, "one copy for both: \(cluster.logs())")
        // The node reports its cache in its heartbeats: one copy (200 MB and its directories), in use.
        try await waitUntil("the node reports the copy", timeout: 10) {
            try await cluster.corral(["nodes", "show", "n1"]).stdout.contains("1 copies (1 in use)")
        }
        let show = try await cluster.corral(["nodes", "show", "n1"]).stdout
        #expect(show.contains("stage cache: 190.7M of 286.1M, 1 copies (1 in use)"), "\(show)")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        var paths: [String] = []
        for job in [first, second] {
            let done = try await cluster.waitForState(job, ["SUCCEEDED", "FAILED"], timeout: 60)
            #expect(done.state == "SUCCEEDED", "\(done.message ?? "")")
            let log = try await cluster.corral(["logs", job]).stdout
            let lines = log.split(separator: "\n", maxSplits: 1).map(String.init)
            paths.append(lines.first ?? "")
            #expect(lines.count == 2 && lines[1] == expected, "identical contents: \(log)")
        }
        #expect(paths[0] == paths[1] && paths[0].hasPrefix(cache + "/"), "\(paths)")
        // The job's event log shows the copy: STARTING, staging, then RUNNING.
        let reasons = try await cluster.events(first).map(\.reason)
        #expect(reasons.contains { $0.hasPrefix("staging: \(nfs)/model: ") }, "\(reasons)")
        var info = stat()
        #expect(stat(paths[0], &info) == 0 && info.st_uid == alice.uid, "the copy is alice's")

        // Eviction pressure: another 150 MB does not fit beside the idle 200 MB copy, which goes.
        let other = try await submit(["\(nfs)/other"], "ls -l \"$CORRAL_STAGE_OTHER\"")
        #expect(try await cluster.waitForState(other, ["SUCCEEDED", "FAILED"], timeout: 120).state == "SUCCEEDED")
        try await checkBound("after the eviction")
        #expect(!FileManager.default.fileExists(atPath: paths[0]), "the least recently used copy was evicted")
        // A third job of the first source stages it again (and has the copy checked by SHA-256, as alice).
        let third = try await submit(
            ["\(nfs)/model"],
            "cd \"$CORRAL_STAGE_MODEL\" && md5sum part*",
            flag: "--stage-checksum"
        )
        let thirdDone = try await cluster.waitForState(third, ["SUCCEEDED", "FAILED"], timeout: 120)
        let thirdLog = try await cluster.corral(["logs", third]).stdout
        #expect(thirdDone.state == "SUCCEEDED" && thirdLog == expected)
        #expect(staged("\(nfs)/model") == 2, "staged again after its eviction")
        try await checkBound("after the re-stage")

        // A file alice may not read: the launch fails, saying so, and nothing is copied.
        let secret = try await submit(["\(nfs)/secret.txt"], "cat \"$CORRAL_STAGE_SECRET_TXT\"")
        let refused = try await cluster.waitForState(secret, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(refused.state == "FAILED")
        #expect(
            refused.message?.contains("cannot read \(nfs)/secret.txt as \(alice.name)") == true,
            "\(refused.message ?? "")"
        )
        #expect(refused.message?.contains("Permission denied") == true)
        #expect(refused.attempts.count == 1, "the job's fault: not retried")
        // A source outside every node's stage roots: no node can run it, and explain says why.
        let outside = try await submit(["/etc/hostname:HOST"], "true")
        var seen: [String] = []
        do {
            try await waitUntil("the job waits as NoFeasibleNode", timeout: 30) {
                let job = try await cluster.job(outside)
                seen.append("\(job.state)/\(job.reason ?? "-")/\(job.message ?? "-")")
                return job.reason == "NoFeasibleNode"
            }
        } catch {
            Issue.record("\(error): \(Set(seen))")
            throw error
        }
        let explained = try await cluster.corral(["explain", outside]).stdout
        #expect(explained.contains("stages only below \(nfs), not /etc/hostname"), "\(explained)")
        _ = try await cluster.corral(["cancel", outside, "--yes"])
        try await checkBound("at the end")
    }
}
