/// Job ids in the order they are made (issue 16). An id is a 50-bit number written as ten letters of the id
/// alphabet, most significant first, the letters taken in byte order (`orderedDigits`), so that the ids sort as
/// their numbers do, in SQLite's indexes as in Swift: the number holds the milliseconds since 2000-01-01 UTC in its
/// top 41 bits and a sequence in its low 9, which starts at a random value in each millisecond.
///
/// Why: every store of a job writes its id into two indexes (the jobs' primary key, the events by job). Random ids
/// put each new one on a page of its own, so a commit of 32 submissions wrote up to 64 index pages to the WAL;
/// ordered ones land on the last page or two. In interleaved runs of the bench's submissions over HTTP, random ids
/// fell from 9,100-9,600/s on an empty queue to 6,300-8,400/s past 100,000 queued; ordered ones held
/// 9,400-12,500/s to 200,000 (docs/PERFORMANCE.md).
///
/// What users see: ids made close together share their first letters (like Slurm's numbers) and differ in their
/// last ones, so a job can also be named by a unique end of its id (`ClusterState.resolveJob`). Ids start with a
/// letter until 2069, so none is all digits (which the Slurm commands would read as a Slurm number).
extension JobID {
    /// The id alphabet in byte order: `alphabet` holds the same letters, in the order Slurm numbers use
    /// (`SlurmJobID`), which ids already given out keep.
    public static let orderedDigits: [Character] = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// 2000-01-01T00:00:00Z, in milliseconds since 1970.
    static let orderEpoch: Int64 = 946_684_800_000
    static let sequenceBits: UInt64 = 9
    static let numberMask: UInt64 = (1 << 50) - 1

    /// The number of the next id: after `previous` (the last one this controller made; 0 for none), and at least
    /// `now`'s millisecond with a random sequence start in the lower half of its 512, so that at least 256 more
    /// fit in the same millisecond before the next one's are used. A clock that steps back never makes an id
    /// smaller than the last, within one run; across runs the store's check of taken ids guards
    /// (`ClusterState.newJobID`).
    public static func nextNumber<G: RandomNumberGenerator>(
        after previous: UInt64,
        at now: Timestamp,
        using generator: inout G
    ) -> UInt64 {
        let milliseconds = UInt64(max(0, now.milliseconds - orderEpoch))
        let start = generator.next() & ((1 << (sequenceBits - 1)) - 1)
        let candidate = (milliseconds << sequenceBits | start) & numberMask
        return max((previous &+ 1) & numberMask, candidate)
    }

    /// The id that writes `number` (its low 50 bits) in `orderedDigits`.
    public init(ordered number: UInt64) {
        var text = ""
        text.reserveCapacity(10)
        for place in stride(from: 45, through: 0, by: -5) {
            text.append(Self.orderedDigits[Int((number >> UInt64(place)) & 31)])
        }
        self.init(text)
    }

    /// The number an ordered id writes; nil for a string of any other shape.
    public var orderedNumber: UInt64? {
        guard rawValue.utf8.count == 10 else { return nil }
        var number: UInt64 = 0
        for character in rawValue {
            guard let digit = Self.orderedDigits.firstIndex(of: character) else { return nil }
            number = number << 5 | UInt64(digit)
        }
        return number
    }
}
