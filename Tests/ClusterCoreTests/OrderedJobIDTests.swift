import ClusterCoreTesting
import Testing

@testable import ClusterCore

/// Job ids in the order they are made (`JobID+Ordered.swift`): their text sorts as their numbers, and their
/// numbers as the times they were made, within a millisecond, across a clock that steps back, and for every date
/// the layout covers.
@Suite struct OrderedJobIDTests {
    /// 2026-12-04, in milliseconds since 1970.
    static let day = Timestamp(milliseconds: 1_796_342_400_000)

    @Test func theOrderedDigitsAreTheIDAlphabetInByteOrder() {
        #expect(Set(JobID.orderedDigits) == Set(JobID.alphabet))
        #expect(JobID.orderedDigits.count == 32)
        let bytes = JobID.orderedDigits.map { $0.asciiValue ?? 0 }
        #expect(bytes == bytes.sorted() && Set(bytes).count == 32)
    }

    @Test func idsSortAsTheirNumbersAndReadBack() {
        var generator = SplitMix64(seed: 11)
        var numbers: [UInt64] = [0, 1, 31, 32, (1 << 50) - 1]
        numbers += (0..<2_000).map { _ in generator.next() & JobID.numberMask }
        for number in numbers {
            let id = JobID(ordered: number)
            #expect(id.rawValue.count == 10)
            #expect(JobID.isValid(id.rawValue))
            #expect(id.orderedNumber == number)
        }
        let ids = numbers.map { JobID(ordered: $0) }
        let byText = ids.sorted().map(\.orderedNumber)
        #expect(byText == numbers.sorted().map { Optional($0) })
        // SQLite compares TEXT keys byte by byte (BINARY): the same order as Swift's.
        #expect(
            ids.sorted().map { Array($0.rawValue.utf8) }
                == ids.map { Array($0.rawValue.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        )
        // Not an ordered id: wrong length, or a letter outside the alphabet.
        #expect(JobID("abc").orderedNumber == nil)
        #expect(JobID("ilou000000").orderedNumber == nil)
    }

    @Test func idsComeInOrderWithinAMillisecondAndWhenTheClockStepsBack() {
        var generator = SplitMix64(seed: 3)
        var last: UInt64 = 0
        var ids: [JobID] = []
        var now = Self.day
        for step in 0..<5_000 {
            // Mostly the same millisecond (1,000 ids in one: more than its 512 numbers), now and then the next,
            // twice a step back by a minute.
            if step % 1_000 == 999 { now = now + .milliseconds(1) }
            if step == 2_500 || step == 4_000 { now = Timestamp(milliseconds: now.milliseconds - 60_000) }
            last = JobID.nextNumber(after: last, at: now, using: &generator)
            ids.append(JobID(ordered: last))
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        // A later millisecond starts above everything made before it, when those fitted in theirs.
        var fresh: UInt64 = 0
        fresh = JobID.nextNumber(after: fresh, at: Self.day, using: &generator)
        let next = JobID.nextNumber(after: fresh, at: Self.day + .milliseconds(1), using: &generator)
        #expect(next >> JobID.sequenceBits == (fresh >> JobID.sequenceBits) + 1)
    }

    @Test func idsStartWithALetterFrom2022To2069() {
        var generator = SplitMix64(seed: 5)
        // 2022-01-01 to 2069-01-01, a year at a time.
        for year in 0...47 {
            let now = Timestamp(milliseconds: 1_640_995_200_000 + Int64(year) * 31_557_600_000)
            let id = JobID(ordered: JobID.nextNumber(after: 0, at: now, using: &generator))
            let first = id.rawValue.first ?? "0"
            #expect(first.isLetter, "\(id) made at \(now)")
        }
        // Before 2000 (a clock far off): the smallest ids, still in order after the last.
        let early = JobID.nextNumber(after: 0, at: Timestamp(milliseconds: 0), using: &generator)
        #expect(early < 1 << JobID.sequenceBits)
        #expect(JobID.nextNumber(after: 900, at: Timestamp(milliseconds: 0), using: &generator) == 901)
    }
}
