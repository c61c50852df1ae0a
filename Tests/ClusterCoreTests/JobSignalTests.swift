import ClusterCore
import Testing

/// `--signal SIG[@SECONDS]` (issue 15's checkpoint signal): Slurm's spellings, and everything else refused.
@Suite struct JobSignalTests {
    @Test(arguments: [
        ("USR1@120", 10, 120), ("SIGUSR1@120", 10, 120), ("usr2@5", 12, 5), ("10@60", 10, 60), ("USR1", 10, 60),
        ("TERM@1", 15, 1), ("HUP@3600", 1, 3_600),
    ])
    func good(_ text: String, _ number: Int32, _ seconds: Int) throws {
        let signal = try #require(JobSignal.parse(text))
        #expect(signal.number == number && signal.seconds == seconds)
        #expect(JobSignal.parse(signal.description) == signal)
    }

    @Test(arguments: [
        "", "@120", "USR1@", "USR1@0", "USR1@-5", "USR1@3601", "USR1@65535", "KILL@10", "9@10", "STOP@1", "USR1@1@2",
        "SIG",
        "USR1@12x", "USR1 @120", "99@1", String(repeating: "U", count: 100), "USR1@99999999999999999999",
    ])
    func hostile(_ text: String) {
        #expect(JobSignal.parse(text) == nil, "\(text)")
    }
}
