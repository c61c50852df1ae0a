import CorralSupport
import Foundation
import Glibc
import Testing

@testable import AgentKit

/// `records_dir` (issue 16): STATE_DIR/jobs becomes a link to it, only when no records are in the old place,
/// and is made again after a reboot emptied the directory it points to.
@Suite struct RecordsDirectoryTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID().uuidString)").path

    func configuration(records: String?) -> AgentConfiguration {
        var configuration = AgentConfiguration()
        configuration.stateDir = root + "/state"
        configuration.recordsDir = records
        return configuration
    }

    @Test func jobsBecomesALinkToRecordsDirWhenNoRecordsAreThere() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = MemoryLog()
        // Without records_dir: a directory.
        #expect(try RecordsDirectory.prepare(configuration(records: nil), log: log) == root + "/state/jobs")
        #expect(Files.linkTarget(root + "/state/jobs") == nil && Files.isDirectory(root + "/state/jobs"))
        // A record in it: it stays there while that job runs.
        try Files.makeDirectories(root + "/state/jobs/a1.1")
        let tmpfs = root + "/run/corral-agent"
        #expect(try RecordsDirectory.prepare(configuration(records: tmpfs), log: log) == root + "/state/jobs")
        #expect(Files.linkTarget(root + "/state/jobs") == nil)
        #expect(log.entries.contains { $0.contains("takes effect at a start with none") })
        // No records: the link.
        rmdir(root + "/state/jobs/a1.1")
        #expect(try RecordsDirectory.prepare(configuration(records: tmpfs), log: log) == tmpfs)
        #expect(Files.linkTarget(root + "/state/jobs") == tmpfs && Files.isDirectory(tmpfs))
        // A reboot empties /run: the directory comes back; and again changes nothing.
        try FileManager.default.removeItem(atPath: root + "/run")
        #expect(
            try RecordsDirectory.prepare(configuration(records: tmpfs), log: log) == tmpfs && Files.isDirectory(tmpfs)
        )
        // records_dir taken out of agent.toml: the records stay where the link points.
        #expect(try RecordsDirectory.prepare(configuration(records: nil), log: log) == tmpfs)
    }

    @Test(arguments: ["/state/jobs", "/state/jobs/x", "/state"])
    func aRecordsDirThatWouldLoopIsRefused(_ suffix: String) {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: Files.Failure.self) {
            try RecordsDirectory.prepare(configuration(records: root + suffix), log: MemoryLog())
        }
    }
}
