import ClusterCore
import Foundation
import Testing

@testable import ClusterWire

/// The fast encoding path (issue 16) against Foundation's JSONEncoder with the protocol's settings, which stays
/// the reference: `WireJSON.encode` must write Foundation's bytes exactly, whether the fast path took the value
/// or gave it back; and the fast path must take what the controller sends most (else it is a slower path).
@Suite struct FastJSONEncoderTests {
    /// The same bytes both ways; returns whether the fast path took the value.
    @discardableResult
    static func same<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let reference = String(decoding: WireJSON.foundationEncode(value), as: UTF8.self)
        let written = String(decoding: WireJSON.encode(value), as: UTF8.self)
        #expect(written == reference, "\(T.self)", sourceLocation: sourceLocation)
        return (try? FastJSON.encode(value)) != nil
    }

    static func queuedJob() -> Job {
        var spec = JobSpec(command: ["true"])
        spec.name = "bench"
        spec.cwd = "/tmp"
        return Job(id: JobID("abcdefghjk"), spec: spec, user: "alice", submittedAt: JobViewTests.submitted)
    }

    @Test func whatTheControllerSendsMostTakesTheFastPathWithFoundationsBytes() throws {
        // A submission's 201, a finished job with two attempts, a node list, a listing.
        #expect(Self.same(JobView(Self.queuedJob())))
        let finished = JobView(JobViewTests.finishedJob())
        #expect(Self.same(finished))
        #expect(Self.same([finished, JobView(Self.queuedJob())]))
        // The agents' bodies, decoded as FastJSONTests has them, and written back.
        let heartbeat = try #require(FastJSONTests.foundation(HeartbeatRequest.self, FastJSONTests.heartbeat))
        #expect(Self.same(heartbeat))
        let batch = try #require(FastJSONTests.foundation(StatusBatchRequest.self, FastJSONTests.statusBatch))
        #expect(Self.same(batch))
        let register = try #require(FastJSONTests.foundation(RegisterRequest.self, FastJSONTests.register))
        #expect(Self.same(register))
        let submit = try #require(FastJSONTests.foundation(SubmitJobRequest.self, FastJSONTests.submit))
        #expect(Self.same(submit))
    }

    /// A dictionary's keys are the user's (env, labels): as they are, in Foundation's order, whatever they hold.
    @Test func dictionariesKeepTheirKeysInFoundationsOrder() {
        let env = [
            "PATH": "/bin", "A10": "x", "a9": "y", "B": "", "_u": "1", "myVar": "camel", "é": "u", "a": "2",
            "Z_LAST": "z", "a_b": "3", "ab": "4", "a-b": "5", "1": "6", "10": "7", "2": "8",
        ]
        #expect(Self.same(env))
        var spec = JobViewTests.spec()
        spec.env = env
        spec.labels = ["Zone": "eu", "rack": "r1", "gpu.model": "h100"]
        #expect(Self.same(JobView(Job(id: JobID("k3xq9mz2ab"), spec: spec, user: "bob", submittedAt: .zero))))
    }

    /// Text as Foundation escapes it: quotes, backslashes, tabs and line ends escaped, slashes and Unicode as they
    /// are; other control characters go to Foundation.
    @Test func stringsAreEscapedAsFoundationEscapesThem() {
        for text in [
            #"a"b\c"#, "/usr/bin", "é ü 日本", "emoji 🚀", "\u{2028}\u{2029}", "tab\there", "line\nbreak", "crlf\r\n",
            "\u{7F}",
            "nul\u{0}", "\u{1F}", "",
        ] {
            let control = text.utf8.contains { $0 < 0x20 && ![0x09, 0x0A, 0x0D].contains($0) }
            #expect(Self.same(["k": text]) == !control, "\(text.debugDescription)")
            #expect(Self.same([text]) == !control)
        }
    }

    struct Keys: Encodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let names: [String]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (index, name) in names.enumerated() { try container.encode(index, forKey: Key(stringValue: name)) }
        }
    }

    /// Keys convert to snake_case as Foundation converts them: camel case, runs of capitals, digits, underscores.
    @Test func keysConvertAsFoundationConvertsThem() {
        let names = [
            "gpuIndices", "myURLValue", "aBC", "ABCDef", "x1Y", "already_snake", "HTTPServer", "simple", "a", "A",
            "exitCode", "sha256", "p50Ms", "aB", "Ab", "ABC", "_private", "trailing_", "camelCASE", "oneTWOThree",
            "x", "memoryMiB", "gpuMemoryMiB", "mixed_Case", "déjàVu",
        ]
        for name in names { #expect(Self.same(Keys(names: [name])) == name.unicodeScalars.allSatisfy(\.isASCII)) }
        #expect(!Self.same(Keys(names: names)))
        // "A" and "a" are one key once converted, and so are "ABC" and "aBC": Foundation's business.
        #expect(
            Self.same(
                Keys(names: names.filter { $0.unicodeScalars.allSatisfy(\.isASCII) && !["A", "ABC"].contains($0) })
            )
        )
        for name in names where name.unicodeScalars.allSatisfy(\.isASCII) {
            #expect(FastJSON.convertToSnakeCase(name) != nil, "\(name)")
        }
        // A key written twice: Foundation's business.
        #expect(!Self.same(Keys(names: ["a", "a"])))
    }

    struct Odd: Encodable {
        var ratio = 0.1
        var whole = 2.0
        var when = Date(timeIntervalSince1970: 1_000)
        var items: [Int?] = [1, nil, 3]
        var nested: [String: [String: Bool]] = ["x": ["y": true]]
    }

    /// Floats, dates and the rest go to Foundation, which writes them as it always has.
    @Test func whatTheFastPathLeavesFoundationWrites() {
        #expect(!Self.same(Odd()))
        #expect(!Self.same([1.5, 2.0]))
        #expect(Self.same([[1, 2], [3]]))
        #expect(Self.same(["x": ["y": true]]))
        #expect(Self.same([Int?.none, 1]))
    }
}
