import BenchKit
import Foundation
import Glibc
import Testing

/// Runs the code paths of `just bench` on tiny sizes so that the harness cannot rot. No test asserts a time or
/// a rate: only that each figure is produced, well formed, and without errors.
@Suite struct BenchHarnessTests {
    @Test func schedulerFigureOnATinyCluster() throws {
        let figure = SchedulerBench.run(jobs: 50, nodes: 5, gpus: 8, runs: 3)
        #expect(figure.name == "scheduling_pass_few_pending")  // 50 jobs: the usual pass, not the 10,000 of the other
        #expect(figure.runs == 3)
        #expect(figure.min <= figure.median && figure.median <= figure.max)
        #expect((figure.extra["assigned"] ?? 0) > 0)
        // The driver's round trip: JSON lines in, the table and the JSON document out.
        let parsed = try Report.figures(fromLines: "noise\n" + figure.jsonLine + "\n")
        #expect(parsed == [figure])
        let output = NSTemporaryDirectory() + "corral-bench-\(getpid()).json"
        defer { unlink(output) }
        let table = try Report.write(parsed, date: "2026-11-22", mode: "test", to: output)
        #expect(table.contains("scheduling_pass") && table.contains("0.5 ms"))
        #expect(FileManager.default.fileExists(atPath: output))
    }

    @Test func schedulerFigureWithGangs() {
        let figure = SchedulerBench.run(jobs: 60, nodes: 12, gpus: 8, runs: 2, gangs: 6)
        #expect(figure.name == "scheduling_pass_gangs")
        #expect(figure.notes.contains("6 of them gangs"))
    }

    @Test func statsAreNearestRank() {
        let stats = Stats([5, 1, 4, 2, 3])
        #expect(stats.median == 3 && stats.min == 1 && stats.max == 5)
        #expect(stats.percentile(90) == 5 && stats.percentile(50) == 3)
        #expect(Stats([1, 2]).median == 1.5 && Stats([]).median == 0)
    }

    /// `corral-bench spawn-floor`: real `/bin/true` processes, each with its log file and, as root on a cgroup v2
    /// (or hybrid) host, a cgroup of its own under one this test names, made and removed; nothing is left after.
    @Test func spawnFloorRunsRealJobsAndLeavesNoCgroup() throws {
        let directory = NSTemporaryDirectory() + "corral-floor-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unified = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].first {
            getuid() == 0 && FileManager.default.fileExists(atPath: $0 + "/cgroup.controllers")
        }
        let parents = unified.map { ["\($0)/corral-floor-test-\(getpid())"] } ?? []
        defer { for parent in parents { rmdir(parent) } }
        let figure = try SpawnFloorBench.run(jobs: 100, runs: 2, directory: directory, cgroupParents: parents)
        // Busy time is counted in clock ticks (10 ms): 100 jobs span many of them.
        #expect(figure.name == "spawn_floor" && figure.runs == 2 && figure.min > 0)
        #expect((figure.extra["ceiling_jobs_per_s_all_cores"] ?? 0) > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 200, "one log per job")
        for parent in parents { #expect(!FileManager.default.fileExists(atPath: parent), "\(parent) is left") }
        #expect(figure.notes.contains(parents.isEmpty ? "log file)" : "1 cgroup(s) made and removed"))
        // A parent that cannot be made is a clear error, and no job runs.
        #expect(throws: BenchError.self) {
            try SpawnFloorBench.run(jobs: 1, runs: 1, directory: directory, cgroupParents: ["/proc/no/such/cgroup"])
        }
    }

    /// `corral-bench seed` writes jobs a real controller then starts on (the million-job run's first step).
    @Test func seededJobsAreWhatAControllerLoads() async throws {
        var figure: Figure?
        let controller = try await BenchController.start { dir in
            figure = try SeedBench.run(dataDir: dir, jobs: 50, nodes: 3)
        }
        defer { controller.stop() }
        #expect(figure?.name == "seed_finished_jobs" && figure?.median == 50)
        #expect(controller.log.contains("loaded 50 jobs (0 queued, 0 placed)"), "\(controller.log)")
        #expect(throws: BenchError.self) { try SeedBench.run(dataDir: controller.root, jobs: 0, nodes: 3) }
    }

    @Test func submitAndFleetAgainstARealController() async throws {
        let controller = try await BenchController.start()
        defer { controller.stop() }

        let submit = await SubmitBench.run(
            endpoint: controller.endpoint,
            token: controller.adminToken,
            clients: 2,
            // Two windows of three seconds, not one of one: the unit suites run in parallel with this one, and
            // under that load a one-second window once saw no submission complete, and a three-second one too
            // (the test took 29 s where it takes 6 alone).
            seconds: 3,
            runs: 2
        )
        #expect(submit.name == "submit_http" && submit.runs == 2)
        #expect(submit.extra["errors"] == 0)
        #expect((submit.extra["accepted"] ?? 0) > 0)

        // Three agents: two long-poll, the third polls after its heartbeats; three 1-GPU jobs run on them
        // (with the CPU jobs submitted above).
        var fleet = FleetSimulator(endpoint: controller.endpoint, clusterToken: controller.clusterToken, nodes: 3)
        fleet.interval = .milliseconds(500)
        fleet.seconds = 2
        fleet.runs = 1
        fleet.pollers = 2
        fleet.pollWait = 1
        fleet.jobDuration = .milliseconds(20)
        fleet.controllerPID = controller.pid
        fleet.jobs = 3
        fleet.userToken = controller.adminToken
        let figure = try await fleet.run()
        #expect(figure.name == "heartbeats" && figure.runs == 1)
        #expect(figure.extra["nodes"] == 3)
        #expect(figure.extra["heartbeat_errors"] == 0)
        #expect(figure.extra["poll_errors"] == 0)
        #expect(figure.extra["report_errors"] == 0)
        #expect((figure.extra["exits"] ?? 0) >= 3)
        #expect(figure.extra["controller_cores"] != nil && figure.extra["controller_rss_mib"] != nil)
    }
}
