import ClusterCore
import ClusterCoreTesting
import Testing

@Suite struct TimeTests {
    // MARK: Timestamp

    @Test func timestampArithmetic() {
        let t = Timestamp(milliseconds: 1_700_000_000_123)
        #expect(t + .seconds(2) == Timestamp(milliseconds: 1_700_000_002_123))
        #expect(t + .milliseconds(-123) == Timestamp(milliseconds: 1_700_000_000_000))
        #expect(t + .zero == t)
        #expect((t + .seconds(90)) - t == .seconds(90))
        #expect(t - (t + .milliseconds(5)) == .milliseconds(-5))
        #expect(Timestamp.zero - Timestamp(milliseconds: 1) == .milliseconds(-1))
        #expect(Timestamp.zero.milliseconds == 0)
        #expect(t.description == "1700000000123ms")
    }

    @Test func timestampOrdering() {
        let a = Timestamp(milliseconds: -5)
        let b = Timestamp(milliseconds: 0)
        let c = Timestamp(milliseconds: 7)
        #expect(a < b && b < c && a < c)
        #expect(!(c < a))
        #expect([c, a, b].sorted() == [a, b, c])
        #expect(max(a, c) == c)
    }

    @Test(arguments: [
        (Duration.zero, Int64(0)),
        (.milliseconds(1), 1),
        (.seconds(3), 3000),
        (.milliseconds(-250), -250),
        (.seconds(-2), -2000),
        (.microseconds(1999), 1),
        (.microseconds(999), 0),
        (.nanoseconds(1), 0),
        (.seconds(86_400 * 365 * 100), 3_153_600_000_000),
    ])
    func durationMilliseconds(_ duration: Duration, _ expected: Int64) {
        #expect(duration.milliseconds == expected)
    }

    @Test func durationMillisecondsRoundsTowardZeroForNegatives() {
        #expect(Duration.microseconds(-1999).milliseconds == -1)
        #expect(Duration.microseconds(-999).milliseconds == 0)
        #expect(Duration.nanoseconds(-1_500_000_001).milliseconds == -1500)
    }

    // MARK: Deadline

    @Test func deadline() {
        let now = Timestamp(milliseconds: 10_000)
        let lease = Deadline(after: .seconds(120), from: now)
        #expect(lease.at == Timestamp(milliseconds: 130_000))
        #expect(!lease.hasPassed(at: now))
        #expect(!lease.hasPassed(at: Timestamp(milliseconds: 129_999)))
        #expect(lease.hasPassed(at: Timestamp(milliseconds: 130_000)))
        #expect(lease.hasPassed(at: Timestamp(milliseconds: 500_000)))
        #expect(lease.remaining(at: now) == .seconds(120))
        #expect(lease.remaining(at: Timestamp(milliseconds: 129_999)) == .milliseconds(1))
        #expect(lease.remaining(at: Timestamp(milliseconds: 130_000)) == .zero)
        #expect(lease.remaining(at: Timestamp(milliseconds: 999_999)) == .zero)
        #expect(Deadline(at: now) < lease)
        #expect(Deadline(at: now) == Deadline(after: .zero, from: now))
        let past = Deadline(after: .seconds(-1), from: now)
        #expect(past.hasPassed(at: now))
    }

    // MARK: Backoff

    @Test func backoffDoublesAndCaps() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), multiplier: 2, jitter: 0)
        let delays = (0..<10).map { backoff.baseDelay(attempt: $0).milliseconds }
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000])
        #expect(backoff.baseDelay(attempt: 0) == .milliseconds(100))
        #expect(backoff.baseDelay(attempt: 1_000_000) == .seconds(10))
        #expect(backoff.baseDelay(attempt: Int.max) == .seconds(10))
        #expect(backoff.baseDelay(attempt: -3) == .milliseconds(100))
    }

    @Test func backoffOtherMultipliersAndLimits() {
        let triple = Backoff(initial: .seconds(1), maximum: .seconds(30), multiplier: 3, jitter: 0)
        #expect((0..<5).map { triple.baseDelay(attempt: $0).milliseconds } == [1000, 3000, 9000, 27_000, 30_000])
        // An initial delay above the cap is capped.
        let odd = Backoff(initial: .seconds(60), maximum: .seconds(5), jitter: 0)
        #expect(odd.baseDelay(attempt: 0) == .seconds(5))
        // The multiplier is at least 1, jitter within 0...1.
        let clamped = Backoff(initial: .milliseconds(50), maximum: .seconds(1), multiplier: 0, jitter: 7)
        #expect(clamped.multiplier == 1)
        #expect(clamped.jitter == 1)
        #expect(clamped.baseDelay(attempt: 5) == .milliseconds(50))
        #expect(Backoff(jitter: -2).jitter == 0)
        // No overflow near Int64.max.
        let huge = Backoff(initial: .seconds(1 << 40), maximum: .seconds(1 << 50), multiplier: 1000, jitter: 0)
        #expect(huge.baseDelay(attempt: 50) == .seconds(1 << 50))
    }

    @Test func backoffJitterStaysWithinBounds() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), multiplier: 2, jitter: 0.2)
        var rng = SplitMix64(seed: 7)
        var distinct = Set<Int64>()
        for attempt in 0..<2000 {
            let base = backoff.baseDelay(attempt: attempt % 12).milliseconds
            let delay = backoff.delay(attempt: attempt % 12, using: &rng).milliseconds
            #expect(delay <= base)
            #expect(delay >= base - base / 5)
            if attempt % 12 == 11 { distinct.insert(delay) }
        }
        // The jitter actually varies.
        #expect(distinct.count > 20)
    }

    @Test func backoffJitterIsRepeatableWithASeed() {
        let backoff = Backoff()
        var a = SplitMix64(seed: 99)
        var b = SplitMix64(seed: 99)
        var c = SplitMix64(seed: 100)
        let first = (0..<50).map { backoff.delay(attempt: $0, using: &a) }
        let second = (0..<50).map { backoff.delay(attempt: $0, using: &b) }
        let other = (0..<50).map { backoff.delay(attempt: $0, using: &c) }
        #expect(first == second)
        #expect(first != other)
    }

    @Test func backoffWithoutJitterIsExact() {
        var rng = SplitMix64(seed: 1)
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: 0)
        for attempt in 0..<20 {
            #expect(backoff.delay(attempt: attempt, using: &rng) == backoff.baseDelay(attempt: attempt))
        }
        #expect(backoff.delay(attempt: -1, using: &rng) == .milliseconds(100))
        #expect(backoff.delay(attempt: Int.max, using: &rng) == .seconds(10))
        // Full jitter: anywhere from 0 to the base.
        let full = Backoff(initial: .seconds(1), maximum: .seconds(1), jitter: 1)
        let delays = (0..<500).map { _ in full.delay(attempt: 3, using: &rng).milliseconds }
        #expect(delays.allSatisfy { (0...1000).contains($0) })
        #expect(delays.min()! < 100 && delays.max()! > 900)
    }

    // MARK: Identifiers

    @Test(arguments: [
        ("abc.1", "abc", 1),
        ("k3xq9mz2ab.12", "k3xq9mz2ab", 12),
        ("Job_A-1.7", "Job_A-1", 7),
        ("x.999999", "x", 999_999),
        ("abc.1.1", "abc", 1),
        ("abc_7.2.15", "abc_7", 2),
    ])
    func allocationIDParses(_ text: String, _ job: String, _ attempt: Int) throws {
        let id = try #require(AllocationID(parsing: text))
        #expect(id.job == JobID(job))
        #expect(id.attempt == attempt)
        #expect(id.rank == (text.split(separator: ".").count == 3 ? Int(text.split(separator: ".")[2])! : 0))
        #expect(id.description == text)
        #expect(AllocationID(parsing: id.description) == id)
    }

    @Test(arguments: [
        "", "x", ".", ".1", "job.", "job.0", "job.-1", "job.abc", "job.1x", "job. 1", "job.1 ", " job.1",
        // The job part may not contain a dot: "a.b" is not a job id.
        "a.b.2",
        // Rank 0 has only the plain form; ranks are canonical decimals.
        "job.1.0", "job.1.01", "job.1.", "job.1.1.1", "job.1.-1", "job..1",
        "job 1.1", "job/1.1", "../etc.1", "job;drop.1", "jöb.1", "job\u{0}.1",
        "job.99999999999999999999999",
        String(repeating: "a", count: 65) + ".1",
    ])
    func allocationIDRefuses(_ text: String) {
        #expect(AllocationID(parsing: text) == nil, "'\(text.prefix(80))' should not parse")
    }

    @Test func allocationIDOrdering() {
        let ids = [
            AllocationID(job: JobID("b"), attempt: 1), AllocationID(job: JobID("a"), attempt: 10),
            AllocationID(job: JobID("a"), attempt: 2),
        ]
        #expect(ids.sorted().map(\.description) == ["a.2", "a.10", "b.1"])
    }

    @Test func jobAllocationIDFollowsTheCurrentAttempt() {
        var job = Job(id: JobID("abc"), spec: JobSpec(command: ["x"]), user: "u", submittedAt: .zero)
        #expect(job.allocationID == nil)
        #expect(job.state == .queued)
        #expect(job.pendingReason == .resources)
        job.attempts = [
            Attempt(number: 1, node: NodeID("n"), gpuIndices: [], resources: .zero, allocatedAt: .zero),
            Attempt(number: 2, node: NodeID("m"), gpuIndices: [0], resources: .zero, allocatedAt: .zero),
        ]
        #expect(job.allocationID?.description == "abc.2")
        #expect(job.currentAttempt?.node == NodeID("m"))
    }

    /// Written out here rather than read from the code: lowercase letters and digits, without i, l, o, u.
    static let idAlphabet = Set("abcdefghjkmnpqrstvwxyz0123456789")

    @Test func randomJobIDsAreUniqueAndUseTheAlphabet() {
        var ids = Set<JobID>()
        var characters = Set<Character>()
        for _ in 0..<20_000 {
            let id = JobID.random()
            #expect(id.rawValue.count == 10)
            #expect(id.rawValue.allSatisfy { Self.idAlphabet.contains($0) })
            #expect(JobID.isValid(id.rawValue))
            ids.insert(id)
            characters.formUnion(id.rawValue)
        }
        #expect(ids.count == 20_000)
        #expect(characters == Self.idAlphabet)
    }

    @Test func theIDAlphabetHasThirtyTwoLetters() {
        // `JobID.random` takes five bits a letter: any other size would skew or overrun it.
        #expect(JobID.alphabet.count == 32)
        #expect(Set(JobID.alphabet).count == 32)
    }

    @Test func seededJobIDsAreRepeatable() {
        var a = SplitMix64(seed: 5)
        var b = SplitMix64(seed: 5)
        let first = (0..<100).map { _ in JobID.random(using: &a) }
        let second = (0..<100).map { _ in JobID.random(using: &b) }
        #expect(first == second)
        #expect(Set(first).count == 100)
    }

    @Test func jobIDValidity() {
        #expect(JobID.isValid("k3xq9mz2ab"))
        #expect(JobID.isValid("k3x"))
        #expect(JobID.isValid(String(repeating: "a", count: 64)))
        for bad in ["", String(repeating: "a", count: 65), "a b", "a.b", "a/b", "é", "a\u{0}", "a'", "a;--"] {
            #expect(!JobID.isValid(bad), "'\(bad)'")
        }
        #expect(JobID("a") < JobID("b"))
        #expect(JobID("abc").description == "abc")
    }

    @Test(arguments: [
        "node-1", "gpu01.cluster.local", "a", "9node", "N_1", String(repeating: "n", count: 63),
    ])
    func nodeIDValid(_ text: String) {
        #expect(NodeID.isValid(text))
    }

    @Test(arguments: [
        "", "-node", ".node", "_node", "node 1", "node/1", "nöde", "node\u{0}", "node:8700", "node\n",
        String(repeating: "n", count: 64), "../../etc",
    ])
    func nodeIDInvalid(_ text: String) {
        #expect(!NodeID.isValid(text), "'\(text.prefix(70))'")
    }

    @Test func credentialUsability() {
        let now = Timestamp(milliseconds: 1000)
        let open = Credential(hash: "h", prefix: "p", kind: .user, subject: "alice", createdAt: .zero)
        #expect(open.isUsable(at: now))
        var expiring = open
        expiring.expiresAt = Timestamp(milliseconds: 1000)
        #expect(!expiring.isUsable(at: now))
        #expect(expiring.isUsable(at: Timestamp(milliseconds: 999)))
        var revoked = open
        revoked.revoked = true
        #expect(!revoked.isUsable(at: now))
    }
}
