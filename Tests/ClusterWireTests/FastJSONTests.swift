import ClusterCore
import Foundation
import Testing

@testable import ClusterWire

/// The fast decoding path (issue 16) against Foundation's JSONDecoder, which stays the reference: whatever
/// the fast path returns, Foundation returns too, on our clients' bodies and on mutations of them; and the
/// fast path does take our clients' bodies (else it would be a slower path).
@Suite struct FastJSONTests {
    static let heartbeat = #"""
        {"boot_id":"b00t","running":[{"allocation_id":"j1.1","pid":123},{"allocation_id":"j2.1"}],
         "gpus":[{"index":0,"uuid":"GPU-1","name":"NVIDIA H100 80GB HBM3","memory_mib":81559,"memory_used_mib":0,
         "utilization":0,"healthy":true},{"index":1,"uuid":"GPU-2","name":"NVIDIA H100","healthy":false}],
         "healthy":true,"message":"ok é","disk_free":1000000,"allocation_lease_ms":30000}
        """#
    static let statusBatch = #"""
        {"reports":[{"allocation_id":"j1.1","status":{"phase":"running","pid":77}},
         {"allocation_id":"j1.2","status":{"phase":"exited","exit_code":0,"timed_out":false,"message":"a\"b\\c\n"}},
         {"allocation_id":"j1.3","status":{"phase":"exited","signal":9,"out_of_memory":true}}]}
        """#
    static let register = #"""
        {"node_id":"gpu-01","hostname":"gpu-01.lab","boot_id":"b","cpus":128,"memory":1099511627776,
         "gpus":[{"index":0,"uuid":"GPU-1","name":"H100","healthy":true}],"labels":{"RACK_ID":"r1","zone_a":"x"},
         "agent_version":"1.0","running":[],"gpu_topology":[["X","NV18"],["NV18","X"]],"containment":"cgroup"}
        """#
    static let submit = #"""
        {"command":["sh","-c","echo hi"],"name":"train","cwd":"/tmp","cpus":2,"gpus":1,"memory":"4G",
         "env":{"MY_VAR":"1","lower_case":"2"},"labels":{"team":"ml"},"priority":-3,"max_retries":2,
         "time_limit":3600,"depends_on":["abc"],"queue":"default"}
        """#
    static let batch = #"{"jobs":[{"command":["true"]},{"command":["x"],"gpus":2,"nodes":1}]}"#

    static func foundation<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? WireJSON.decoder().decode(type, from: Data(json.utf8))
    }

    static func fast<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? FastJSON.decode(type, from: Array(json.utf8))
    }

    /// The fast path's answer, if it has one, is Foundation's.
    static func agree<T: Decodable & Equatable>(
        _ type: T.Type,
        _ json: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let fast = fast(type, json) else { return }
        let reference = foundation(type, json)
        #expect(reference == fast, "\(T.self): \(json)", sourceLocation: sourceLocation)
    }

    @Test func ourClientsBodiesTakeTheFastPathAndDecodeAsFoundationDoes() throws {
        let heartbeat = try #require(Self.fast(HeartbeatRequest.self, Self.heartbeat))
        #expect(heartbeat == Self.foundation(HeartbeatRequest.self, Self.heartbeat))
        #expect(heartbeat.gpus?.first?.memoryMib == 81559 && heartbeat.message == "ok é")
        let batch = try #require(Self.fast(StatusBatchRequest.self, Self.statusBatch))
        #expect(batch == Self.foundation(StatusBatchRequest.self, Self.statusBatch))
        #expect(batch.reports[1].status.message == "a\"b\\c\n")
        let register = try #require(Self.fast(RegisterRequest.self, Self.register))
        #expect(register == Self.foundation(RegisterRequest.self, Self.register))
        #expect(register.labels == ["RACK_ID": "r1", "zone_a": "x"])
        let submit = try #require(Self.fast(SubmitJobRequest.self, Self.submit))
        #expect(submit == Self.foundation(SubmitJobRequest.self, Self.submit))
        #expect(submit.env == ["MY_VAR": "1", "lower_case": "2"])
        #expect(Self.fast(BatchSubmitRequest.self, Self.batch) == Self.foundation(BatchSubmitRequest.self, Self.batch))
        // What the encoder writes, read back.
        let encoded = String(decoding: WireJSON.encode(heartbeat), as: UTF8.self)
        #expect(Self.fast(HeartbeatRequest.self, encoded) == heartbeat)
    }

    /// Mutations of each body: numbers Foundation reads its own way, keys in other spellings, escapes, nulls,
    /// missing and extra members, broken text. Where the fast path answers, Foundation agrees.
    @Test func mutationsNeverMakeTheFastPathDisagree() {
        let replacements: [(String, String)] = [
            ("123", "123.0"), ("123", "1.23e2"), ("123", "-0"), ("123", "1e400"), ("123", "99999999999999999999"),
            ("0", "-0"), ("30000", "3e4"), ("true", "1"), ("true", "null"), ("false", "\"false\""),
            ("\"boot_id\"", "\"bootId\""), ("\"boot_id\"", "\"BOOT_ID\""), ("\"boot_id\"", "\"boot__id\""),
            ("\"boot_id\"", "\"_boot_id\""), ("\"memory_mib\"", "\"memory_MiB\""), ("\"exit_code\"", "\"exitCode\""),
            ("\"exit_code\"", "\"exit_code_\""), ("\"pid\"", "\"p\\u0069d\""), ("\"running\"", "\"running\" "),
            ("\"j1.1\"", "\"j1\\u002e1\""), ("\"j1.1\"", "\"j1\\/1\""), ("\"j1.1\"", "\"\u{0}\""), ("\"x\"", "null"),
            ("\"running\"", "\"exited\""), ("\"running\"", "\"RUNNING\""), ("[]", "null"), ("[]", "{}"),
            ("\"ml\"", "7"), ("-3", "-3.5"), ("2", "2e0"), ("\"4G\"", "4096"), (",", " , "), (":", " :\n"),
            ("{", "{\"extra_key\":[1,{\"a\":null}],"), ("\"cpus\":128", "\"cpus\":128,\"cpus_x\":1"),
            ("\"MY_VAR\"", "\"MY\\u005fVAR\""), ("\"team\"", "\"t\u{e9}am\""), ("1099511627776", "1099511627776.5"),
        ]
        let bodies = [Self.heartbeat, Self.statusBatch, Self.register, Self.submit, Self.batch]
        var inputs: [String] = []
        for body in bodies {
            inputs.append(body)
            for (old, new) in replacements where body.contains(old) {
                inputs.append(body.replacingOccurrences(of: old, with: new))
            }
            for cut in stride(from: 1, to: body.utf8.count, by: 37) { inputs.append(String(body.utf8.prefix(cut))!) }
        }
        for input in inputs {
            Self.agree(HeartbeatRequest.self, input)
            Self.agree(StatusBatchRequest.self, input)
            Self.agree(RegisterRequest.self, input)
            Self.agree(SubmitJobRequest.self, input)
            Self.agree(BatchSubmitRequest.self, input)
            Self.agree([String: String].self, input)
        }
    }

    /// Key conversion, on random keys of letters, digits and underscores, against the keys Foundation's
    /// decoder reports for the same object.
    @Test func keysConvertAsFoundationConvertsThem() throws {
        struct AnyKey: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        struct Keys: Decodable {
            var keys: [String]
            init(from decoder: any Decoder) throws {
                keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            }
        }
        let alphabet = Array("aZb9_X0_q_")
        var generator = DuplicateKeyScanTests.SplitMix(seed: 6)
        for _ in 0..<3000 {
            let key = String(
                (0..<Int.random(in: 1...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            )
            let reference = try #require(Self.foundation(Keys.self, "{\"\(key)\": 1}")?.keys.first)
            #expect(try FastJSON.camelCase(key) == reference, "\(key)")
        }
    }

    /// A type that catches a decoding error and carries on with a value of its own: where the fast path gave up
    /// underneath, its answer is not used, and Foundation's (which did not give up) is.
    @Test func aTypeThatSwallowsAnErrorGetsFoundationsValue() throws {
        struct Lenient: Decodable, Equatable {
            enum CodingKeys: String, CodingKey { case count }
            var count: Int
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                count = (try? container.decode(Int.self, forKey: .count)) ?? -1
            }
        }
        let json = Array(#"{"count": 1.0}"#.utf8)
        #expect((try? FastJSON.decode(Lenient.self, from: json)) == nil)
        #expect(try WireJSON.decode(Lenient.self, from: json).count == 1)
        #expect(try FastJSON.decode(Lenient.self, from: Array(#"{"count": 2}"#.utf8)).count == 2)
    }

    @Test func malformedAndHostileTextIsLeftToFoundation() {
        for text in [
            "", "{", "{\"a\":}", "[1,]", "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"\\x\"}", "nul", "{} x",
            "{\"a\":\"\u{1}\"}", String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
        ] {
            #expect(Self.fast([String: [Int]].self, text) == nil, "\(text.prefix(40))")
        }
        // Invalid UTF-8 in a string.
        #expect((try? FastJSON.parse([0x22, 0xFF, 0x22])) == nil)
    }
}
