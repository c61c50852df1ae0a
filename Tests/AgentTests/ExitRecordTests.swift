import CorralSupport
import Foundation
import Testing

@testable import AgentKit

/// The exit record's reserve (`ExitRecord.swift`); the full disk itself is `NodeDiskFullTests`.
@Suite struct ExitRecordTests {
    let record: JobRecord

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        record = JobRecord(directory: directory.path)
    }

    /// A launch error of 20,000 characters that JSON escapes (quotes, control characters) is cut to fit the
    /// reserve, which becomes exit.json.
    @Test func aLongLaunchErrorIsCutToFitTheReserve() throws {
        defer { record.remove() }
        #expect(record.reserveExitRoom() == nil)
        #expect(Files.size(record.exitReservePath) == JobRecord.exitReserveBytes)
        let error = "cannot start \"x\"\u{1}é " + String(repeating: "\"\u{2}", count: 10_000)
        record.write(SupervisorExit(launchError: error, endedAtMs: 1))
        #expect(!FileManager.default.fileExists(atPath: record.exitReservePath))
        #expect(Files.size(record.exitPath) <= JobRecord.exitReserveBytes)
        let written = try #require(record.exit()?.launchError)
        #expect(written.hasPrefix("cannot start \"x\"\u{1}é "))
        #expect(written.hasSuffix("…"))
    }

    @Test func aShortRecordIsWrittenWhole() throws {
        defer { record.remove() }
        #expect(record.reserveExitRoom() == nil)
        let exit = SupervisorExit(code: 3, endedAtMs: 1_700_000_000_000, cpuSeconds: 1.5, maxResidentBytes: 1 << 30)
        record.write(exit)
        #expect(record.exit() == exit)
        #expect(Files.size(record.exitPath) == JobRecord.encode(exit).utf8.count)
    }
}
