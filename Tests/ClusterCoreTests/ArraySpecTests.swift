import ClusterCore
import Testing

/// `--array` as Slurm users write it, and everything else refused with a message that shows the forms.
@Suite struct ArraySpecTests {
    @Test(arguments: [
        ("0-4", [0, 1, 2, 3, 4], nil as Int?),
        ("1,5,7", [1, 5, 7], nil),
        ("0-20:5", [0, 5, 10, 15, 20], nil),
        ("0-99%8", Array(0...99), 8),
        ("3", [3], nil),
        ("7,1-3,2", [1, 2, 3, 7], nil),  // overlaps count once, in order
        ("0-9999", Array(0...9999), nil),
        ("9999999", [9_999_999], nil),
    ])
    func parses(_ text: String, _ indices: [Int], _ limit: Int?) throws {
        let spec = try ArraySpec.parse(text)
        #expect(spec.indices == indices)
        #expect(spec.limit == limit)
    }

    @Test(arguments: [
        "", "-", "5-1", "a-b", "1,,2", ",1", "1-", "-3", "0-10%0", "0-10%", "0-10%x", "0-10:0", "0-10:", "0-10%2%3",
        "0-10000", "10000000", "0-9999999:1", "1 - 3", "1;2", "0x10", "１", String(repeating: "1,", count: 3000),
    ])
    func refuses(_ text: String) {
        #expect(throws: SpecError.self, "'\(text.prefix(40))'") { try ArraySpec.parse(text) }
    }

    @Test func theErrorNamesTheFieldAndShowsTheForms() {
        do {
            _ = try ArraySpec.parse("9-2")
            Issue.record("parsed 9-2")
        } catch {
            #expect(error.field == "array")
            #expect(error.message.contains("runs backwards") && error.message.contains("0-99%8"))
        }
    }

    @Test func gangSpecsAreValidatedLikeTheRest() {
        var spec = JobSpec(command: ["x"], nodes: 0)
        #expect(throws: SpecError.self) { try spec.validate() }
        spec.nodes = SpecLimits.maxNodes + 1
        #expect(throws: SpecError.self) { try spec.validate() }
        spec.nodes = 4
        #expect(throws: Never.self) { try spec.validate() }
        spec.env = ["MASTER_PORT": "1"]
        #expect(throws: SpecError.self) { try spec.validate() }
        // A one-node job may set the variables a launcher of its own reads.
        spec.nodes = 1
        #expect(throws: Never.self) { try spec.validate() }
    }
}
