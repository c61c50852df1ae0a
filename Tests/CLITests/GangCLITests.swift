import ClusterCore
import ClusterWire
import Testing

@testable import CLIKit

/// The CLI's gang and array flags, the merged rank logs, and the array line of `corral ls`.
@Suite struct GangCLITests {
    @Test func gangAndArrayFlagsBecomeTheRequest() throws {
        let request = try CLICommandTests.submitted([
            "--nodes", "4", "--gpus-per-node", "8", "--cpus-per-node", "16", "--mem-per-node", "64G", "--", "torchrun",
        ])
        #expect(request.nodes == 4 && request.gpusPerNode == 8 && request.cpusPerNode == 16)
        #expect(request.memoryPerNode?.bytes == 64 << 30)
        #expect(request.gpus == nil)
        let array = try CLICommandTests.submitted(["--array", "0-99%8", "--", "python", "sweep.py"])
        #expect(array.array == "0-99%8" && array.command == ["python", "sweep.py"])
    }

    @Test(arguments: [["--array", "9-1"], ["--array", "0-5%0"], ["--nodes", "two"], ["--array"]])
    func badFlagsAreUsageErrors(_ flags: [String]) {
        #expect(CLICommandTests.usageError(["submit"] + flags + ["--", "x"]) != nil)
    }

    @Test func logsTakeARank() throws {
        let logs = try #require(try CLICommandTests.command(["logs", "--rank", "2", "-f", "abc"]) as? LogsCommand)
        #expect(logs.rank == 2 && logs.follow && logs.target == "abc")
        #expect(CLICommandTests.usageError(["logs", "--rank", "-1", "abc"]) != nil)
        #expect(CLICommandTests.usageError(["logs", "--rank", "abc"]) != nil)
        let earlier = try #require(try CLICommandTests.command(["logs", "--attempt", "2", "abc"]) as? LogsCommand)
        #expect(earlier.attempt == 2)
        #expect(CLICommandTests.usageError(["logs", "--attempt", "0", "abc"]) != nil)
        #expect(CLICommandTests.usageError(["logs", "--attempt", "2", "--tail", "5", "abc"]) != nil)
    }

    @Test func mergedLogsPrefixWholeLinesOnly() {
        var merged = GangLogs(id: "j", ranks: 2)
        #expect(merged.take(Array("hel".utf8), rank: 0).isEmpty)
        #expect(
            String(decoding: merged.take(Array("a\nb\n".utf8), rank: 1), as: UTF8.self) == "[rank 1] a\n[rank 1] b\n"
        )
        #expect(String(decoding: merged.take(Array("lo\nx".utf8), rank: 0), as: UTF8.self) == "[rank 0] hello\n")
        #expect(merged.partial[0] == Array("x".utf8))
    }

    @Test func anArrayIsOneLineAndAGangShowsNodesTimesGPUs() {
        var task = Job(id: JobID("arr_3"), spec: JobSpec(command: ["x"]), user: "ana", submittedAt: .zero)
        task.array = ArrayTask(array: JobID("arr"), index: 3, count: 50, limit: 3)
        var line = JobView(task)
        line.arraySummary = ArraySummaryView(arrayId: "arr", tasks: 50, limit: 3, states: ["RUNNING": 3, "QUEUED": 47])
        let gang = Job(
            id: JobID("gang"),
            spec: JobSpec(command: ["x"], resources: Resources(gpus: 8), nodes: 4),
            user: "ana",
            submittedAt: .zero
        )
        let table = Tables.jobs([line, JobView(gang)], now: .zero)
        #expect(table.contains("arr_[50]"))
        #expect(table.contains("3 RUNNING, 47 QUEUED"))
        #expect(table.contains("4x8"))
    }
}
