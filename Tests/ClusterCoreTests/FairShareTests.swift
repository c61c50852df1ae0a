import ClusterCore
import Testing

@Suite struct FairShareTests {
    static let day: Int64 = 86_400_000

    @Test func usageHalvesEveryHalfLife() {
        var usage = FairShareUsage()
        usage.record(user: "u", gpuSeconds: 1_000, at: .zero)
        #expect(usage.value(for: "u", at: .zero) == 1_000)
        #expect(abs(usage.value(for: "u", at: Timestamp(milliseconds: Self.day)) - 500) < 1e-9)
        #expect(abs(usage.value(for: "u", at: Timestamp(milliseconds: 2 * Self.day)) - 250) < 1e-9)
        #expect(abs(usage.value(for: "u", at: Timestamp(milliseconds: Self.day / 2)) - 707.106_781_186_5) < 1e-6)
        #expect(usage.value(for: "u", at: Timestamp(milliseconds: 2_000 * Self.day)) == 0)
        #expect(usage.value(for: "nobody", at: .zero) == 0)
    }

    @Test func recordsAddUpAfterDecay() {
        var usage = FairShareUsage(halfLife: .seconds(3600))
        usage.record(user: "u", gpuSeconds: 100, at: .zero)
        usage.record(user: "u", gpuSeconds: 100, at: Timestamp(milliseconds: 3_600_000))
        #expect(abs(usage.value(for: "u", at: Timestamp(milliseconds: 3_600_000)) - 150) < 1e-9)
        // A late record decays to the entry's time: the order of records does not matter.
        var other = FairShareUsage(halfLife: .seconds(3600))
        other.record(user: "u", gpuSeconds: 100, at: Timestamp(milliseconds: 3_600_000))
        other.record(user: "u", gpuSeconds: 100, at: .zero)
        #expect(abs(other.value(for: "u", at: Timestamp(milliseconds: 3_600_000)) - 150) < 1e-9)
        usage.record(user: "u", gpuSeconds: -5, at: .zero)
        usage.record(user: "u", gpuSeconds: .nan, at: .zero)
        #expect(abs(usage.value(for: "u", at: Timestamp(milliseconds: 3_600_000)) - 150) < 1e-9)
        #expect(usage.users == ["u"])
    }

    @Test func decayIsMonotone() {
        var usage = FairShareUsage()
        usage.record(user: "u", gpuSeconds: 1e6, at: .zero)
        var last = Double.infinity
        for step in 0..<200 {
            let value = usage.value(for: "u", at: Timestamp(milliseconds: Int64(step) * 3_600_000))
            #expect(value <= last && value >= 0)
            last = value
        }
    }
}
