import ClusterCore
import ClusterWire
import CorralSupport
import Foundation
import Glibc
import Testing

@testable import AgentKit

/// The agent's stage cache on directories of the test's own, copying as the agent's own account (the copies as
/// a job's account are in StageInTests, end to end).
@Suite struct StageCacheTests {
    struct Fixture {
        let root: String
        var nfs: String { root + "/nfs" }
        var cache: String { root + "/cache" }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("stage-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root + "/nfs", withIntermediateDirectories: true)
        }

        /// A directory of `megabytes` MB at nfs/NAME.
        func source(_ name: String, megabytes: Int) throws -> String {
            let path = nfs + "/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data(repeating: UInt8(name.utf8.count), count: megabytes * 1_000_000).write(
                to: URL(fileURLWithPath: path + "/data")
            )
            return path
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    func stage(_ source: String, _ name: String = "S") -> [StageSource] { [StageSource(source: source, name: name)] }

    @Test func twoJobsAtOnceShareOneCopy() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let source = try fixture.source("model", megabytes: 30)
        let log = MemoryLog()
        let cache = StageCache(directory: fixture.cache, limit: 100_000_000, roots: [fixture.nfs], log: log)
        async let one = cache.acquire(stage(source), account: nil, allocation: "a.1")
        async let two = cache.acquire(stage(source), account: nil, allocation: "b.1")
        let (first, second) = try await (one, two)
        #expect(first.paths == second.paths && first.keys == second.keys)
        #expect(log.entries.filter { $0.contains("staged") }.count == 1, "\(log.entries)")
        let copied = try Data(contentsOf: URL(fileURLWithPath: first.paths["S"]! + "/data"))
        #expect(copied == (try Data(contentsOf: URL(fileURLWithPath: source + "/data"))))
        let report = cache.report()
        // du's apparent size counts the directory itself too: a few KiB over the file.
        #expect(report.entries == 1 && report.inUse == 1 && report.limit == 100_000_000)
        #expect((30_000_000..<30_016_384).contains(report.used))
    }

    @Test func idleCopiesAreEvictedLeastRecentlyUsedFirstAndCopiesInUseNever() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let (a, b, c) = (
            try fixture.source("a", megabytes: 40), try fixture.source("b", megabytes: 40),
            try fixture.source("c", megabytes: 40)
        )
        let cache = StageCache(directory: fixture.cache, limit: 100_000_000, roots: [fixture.nfs], log: MemoryLog())
        let first = try await cache.acquire(stage(a), account: nil, allocation: "a.1")
        _ = try await cache.acquire(stage(b), account: nil, allocation: "b.1")
        // Both in use: a third does not fit, and nothing in use goes.
        await #expect(throws: StageCache.Failure.self) {
            try await cache.acquire(stage(c), account: nil, allocation: "c.1")
        }
        #expect(FileManager.default.fileExists(atPath: first.paths["S"]!))
        await cache.release(allocation: "a.1")
        await cache.release(allocation: "b.1")
        _ = try await cache.acquire(stage(b), account: nil, allocation: "b.2")  // b is now the more recent
        await cache.release(allocation: "b.2")
        _ = try await cache.acquire(stage(c), account: nil, allocation: "c.1")
        #expect(!FileManager.default.fileExists(atPath: first.paths["S"]!), "a, the least recently used, went")
        #expect((80_000_000..<80_032_768).contains(cache.report().used))
        // Larger than the whole cache, outside the roots, missing: refused, each saying why and whose fault.
        let big = try fixture.source("big", megabytes: 101)
        for (source, fault, words) in [
            (big, false, "more than this node's whole stage cache"), ("/etc", false, "is not below a stage root"),
            (fixture.nfs + "/missing", false, "does not exist"),
        ] {
            do {
                _ = try await cache.acquire(stage(source), account: nil, allocation: "x.1")
                Issue.record("\(source) was staged")
            } catch let failure as StageCache.Failure {
                #expect(failure.nodeFault == fault && failure.description.contains(words), "\(failure)")
            }
        }
    }

    @Test func aRestartedAgentKeepsWholeCopiesAndDropsHalfOnes() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let source = try fixture.source("model", megabytes: 5)
        let before = StageCache(directory: fixture.cache, limit: 100_000_000, roots: [fixture.nfs], log: MemoryLog())
        let staged = try await before.acquire(stage(source), account: nil, allocation: "a.1")
        try FileManager.default.createDirectory(
            atPath: fixture.cache + "/half/data.partial",
            withIntermediateDirectories: true
        )
        let log = MemoryLog()
        let after = StageCache(directory: fixture.cache, limit: 100_000_000, roots: [fixture.nfs], log: log)
        #expect(!FileManager.default.fileExists(atPath: fixture.cache + "/half"))
        await after.adopt(allocation: "a.1", keys: staged.keys)
        let report = after.report()
        #expect(report.entries == 1 && report.inUse == 1 && (5_000_000..<5_016_384).contains(report.used))
        let again = try await after.acquire(stage(source), account: nil, allocation: "b.1")
        #expect(again.paths == staged.paths && log.entries.filter { $0.contains("staged") }.isEmpty, "no second copy")
        // The source changed: a new copy (the old one goes once no job uses it).
        try Data(repeating: 9, count: 10).write(to: URL(fileURLWithPath: source + "/more"))
        let changed = try await after.acquire(stage(source), account: nil, allocation: "c.1")
        #expect(changed.keys != staged.keys)
    }

    @Test(arguments: [
        ("/nfs/models/llama-3", StageSource(source: "/nfs/models/llama-3", name: "LLAMA_3")),
        ("/nfs/x.bin:WEIGHTS", StageSource(source: "/nfs/x.bin", name: "WEIGHTS")),
        ("/nfs/2024", StageSource(source: "/nfs/2024", name: "_2024")),
    ])
    func stageSourcesParse(text: String, expected: StageSource) throws {
        #expect(try StageSource.parse(text) == expected)
    }

    @Test(arguments: ["relative/path", "/", "/nfs/../etc", "/nfs/x:lower", "/nfs/x:9X", "", "/nfs/\u{0}x", "/nfs/./x"])
    func badStageSourcesAreRefused(text: String) {
        #expect(throws: SpecError.self) { try StageSource.parse(text) }
    }

    /// `--stage-checksum`: a copy that no longer matches its source by SHA-256 is refused and dropped, and the
    /// next job gets a fresh copy; without the checksum the size and time alone decide (they still match here).
    @Test func aChecksumCatchesACopyThatChanged() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let source = try fixture.source("model", megabytes: 2)
        let log = MemoryLog()
        let cache = StageCache(directory: fixture.cache, limit: 100_000_000, roots: [fixture.nfs], log: log)
        let checked = [StageSource(source: source, name: "M", checksum: true)]
        let first = try await cache.acquire(checked, account: nil, allocation: "a.1")
        await cache.release(allocation: "a.1")
        // The copy is damaged in place: same size, same name.
        let handle = try #require(FileHandle(forUpdatingAtPath: first.paths["M"]! + "/data"))
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([0xFF]))
        try handle.close()
        let unchecked = try await cache.acquire(stage(source, "M"), account: nil, allocation: "b.1")
        #expect(unchecked.keys == first.keys, "size and time match: reused")
        await cache.release(allocation: "b.1")
        do {
            _ = try await cache.acquire(checked, account: nil, allocation: "c.1")
            Issue.record("a damaged copy passed its checksum")
        } catch let failure as StageCache.Failure {
            #expect(failure.nodeFault && failure.description.contains("differs from it by SHA-256"), "\(failure)")
        }
        #expect(cache.report().entries == 0, "dropped")
        let fresh = try await cache.acquire(checked, account: nil, allocation: "d.1")
        let copied = try Data(contentsOf: URL(fileURLWithPath: fresh.paths["M"]! + "/data"))
        #expect(copied == (try Data(contentsOf: URL(fileURLWithPath: source + "/data"))))
        #expect(log.entries.filter { $0.contains("staged") }.count == 2)
    }
}
