import ClusterCore
import ClusterCoreTesting
import ClusterWire
import Testing

/// Timestamps on the wire. The expected pairs were computed independently (Python's datetime).
@Suite struct WireTimeTests {
    static let known: [(Int64, String)] = [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_709_210_096_789, "2024-02-29T12:34:56.789Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
        (-11_670_976_371_991, "1600-02-29T06:07:08.009Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (1_795_363_968_123, "2026-11-22T16:12:48.123Z"),
    ]

    @Test(arguments: known)
    func formatsAndParsesKnownInstants(_ milliseconds: Int64, _ text: String) {
        #expect(WireTime.format(Timestamp(milliseconds: milliseconds)) == text)
        #expect(WireTime.parse(text) == Timestamp(milliseconds: milliseconds))
    }

    @Test(arguments: [UInt64(3), 77, 2024])
    func roundTripsRandomInstantsFromYear1To9999(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<5000 {
            let ms = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &rng)
            let text = WireTime.format(Timestamp(milliseconds: ms))
            #expect(text.utf8.count == 24, "\(text)")
            #expect(WireTime.parse(text) == Timestamp(milliseconds: ms), "\(ms) -> \(text)")
        }
    }

    @Test func everyMillisecondAroundDayBoundaries() {
        for day: Int64 in [-1, 0, 1, 19_782, -25_567] {
            for offset: Int64 in -1_001...1_001 {
                let ms = day * 86_400_000 + offset
                #expect(WireTime.parse(WireTime.format(Timestamp(milliseconds: ms))) == Timestamp(milliseconds: ms))
            }
        }
    }

    @Test func formatIsOrderPreserving() {
        // Fixed-width text sorts like the instants (for years 0001-9999), so logs and listings sort correctly.
        let instants: [Int64] = [-62_135_596_800_000, -1, 0, 1, 999, 1000, 86_399_999, 86_400_000, 253_402_300_799_999]
        let texts = instants.map { WireTime.format(Timestamp(milliseconds: $0)) }
        #expect(texts == texts.sorted())
    }

    @Test(arguments: [
        ("2024-02-29T12:34:56Z", Int64(1_709_210_096_000)),
        ("2024-02-29T12:34:56.7Z", 1_709_210_096_700),
        ("2024-02-29T12:34:56.78Z", 1_709_210_096_780),
        ("2024-02-29T12:34:56.789123Z", 1_709_210_096_789),
        ("2024-02-29T12:34:56.789999999Z", 1_709_210_096_789),
        ("1970-01-01T00:00:00Z", 0),
    ])
    func parsesOtherPrecisions(_ text: String, _ milliseconds: Int64) {
        #expect(WireTime.parse(text) == Timestamp(milliseconds: milliseconds))
    }

    @Test(arguments: [
        "", "Z", "garbage", "2024-02-29", "2024-02-29T12:34:56", "2024-02-29T12:34:56.789",
        "2024-02-29T12:34:56.789z", "2024-02-29T12:34:56+00:00", "2024-02-29T12:34:56.789+01:00",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-32T00:00:00Z", "2024-01-00T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:61Z", "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00.12aZ", "2024-01-01T00:00:00.-12Z", "abcd-01-01T00:00:00Z", "-001-01-01T00:00:00Z",
        "20240-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-01T0:00:00.000Z", " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z ", "2024-01-01T00:00:00ZZ", "２０２４-01-01T00:00:00Z", "2024-01-01T00:00:00\u{0}Z",
    ])
    func refusesGarbageAndOutOfRangeFields(_ text: String) {
        #expect(WireTime.parse(text) == nil, "'\(text)' should not parse")
    }

    @Test(arguments: ["2024/01/01T00:00:00Z", "2024-01-01X00:00:00Z", "2024-01-01T00-00-00Z", "2024x01x01T00:00:00Z"])
    func refusesWrongSeparators(_ text: String) {
        do {
            #expect(WireTime.parse(text) == nil, "'\(text)' should not parse")
        }
    }

    @Test(arguments: ["2023-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-04-31T00:00:00Z", "2100-02-29T00:00:00Z"])
    func refusesDaysPastTheEndOfTheMonth(_ text: String) {
        do {
            #expect(WireTime.parse(text) == nil, "'\(text)' should not parse")
        }
    }

    /// A long fraction overflows `value * 10` in `number(_:)` (and `pow10`): a trap on hostile input.
    @Test func longFractionDoesNotTrap() async {
        do {
            await #expect(processExitsWith: .success) {
                _ = WireTime.parse("2024-01-01T00:00:00.12345678901234567890123456789Z")
            }
        }
    }

    @Test func eventViewFormatsItsTime() {
        let record = JobEventRecord(
            job: JobID("abc"),
            attempt: 2,
            from: .running,
            to: nil,
            reason: "refused",
            node: NodeID("n1"),
            at: Timestamp(milliseconds: 1_709_210_096_789),
            applied: false
        )
        let view = EventView(record)
        #expect(view.at == "2024-02-29T12:34:56.789Z")
        #expect(view.from == "RUNNING" && view.to == nil && view.node == "n1" && !view.applied && view.attempt == 2)
    }
}
