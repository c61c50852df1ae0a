import ClusterWire
import Testing

/// The duplicate-key scan hashes plain keys in place and decodes only what it must (issue 16); these check it
/// finds exactly the repeats a scan of decoded Strings finds, whatever the keys' spelling.
@Suite struct DuplicateKeyScanTests {
    /// Spellings of keys, with the key each decodes to.
    static let spellings: [(json: String, key: String)] = [
        ("a", "a"), (#"\u0061"#, "a"), ("ab", "ab"), (#"a\u0062"#, "ab"), ("é", "é"), (#"\u00e9"#, "é"),
        (#"e\u0301"#, "e\u{301}"), ("ü", "ü"), (#"q\"q"#, "q\"q"), (#"q\u0022q"#, "q\"q"), (#"s\\"#, "s\\"),
        ("{", "{"), ("", ""), ("K", "K"), ("\u{212A}", "\u{212A}"), (#"\u212A"#, "\u{212A}"),
    ]

    static func decodedEnv(_ json: String) -> Result<[String: String], WireDecodingError> {
        Result { () throws(WireDecodingError) in try WireJSON.decode([String: String].self, from: Array(json.utf8)) }
    }

    @Test(arguments: [
        (#"{"é": "1", "e\u0301": "2"}"#, "é"),
        (#"{"ü": "1", "ü": "2"}"#, "ü"),
        (#"{"x": "a\"b\u00e9", "k": "1", "k": "2"}"#, "k"),
        (#"{"\u0061": "1", "a": "2"}"#, "a"),
        // U+212A KELVIN SIGN is "K" to Swift (canonically equivalent), so to the decoder too.
        (#"{"KEY": "a", "\u212AEY": "b"}"#, "KEY"),
        ("{\"KEY\": \"a\", \"\u{212A}EY\": \"b\"}", "KEY"),
    ])
    func repeatsSpelledDifferentlyAreFound(_ json: String, _ key: String) {
        guard case .failure(let error) = Self.decodedEnv(json) else {
            Issue.record("\(json) decoded")
            return
        }
        #expect(error.field == key && error.message.contains("appears twice"), "\(error)")
    }

    /// Random objects of random spellings, with strings, arrays and nested objects between the keys: refused
    /// exactly when two keys of one object decode to equal Strings.
    @Test func randomObjectsAreRefusedExactlyWhenAKeyRepeats() {
        var generator = SplitMix(seed: 16)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...5, using: &generator)
            let chosen = (0..<count).map { _ in Self.spellings.randomElement(using: &generator)! }
            var members: [String] = []
            for (index, spelling) in chosen.enumerated() {
                let filler = ["\"v\"", "\"\\\"}{,\"", "[\"a\", {\"a\": 1}]", "{\"\(spelling.json)\": 2}", "\"é\""]
                members.append("\"\(spelling.json)\": \(index % 2 == 0 ? "\"\(index)\"" : "\"x\"")")
                if Bool.random(using: &generator) {
                    members.append("\"filler\(index)\": \(filler.randomElement(using: &generator)!)")
                }
            }
            let json = "{" + members.joined(separator: ", ") + "}"
            let keys = chosen.map(\.key)
            let repeats = keys.indices.contains { i in keys[..<i].contains(keys[i]) }
            let result = try? WireJSON.decode(Wrapper.self, from: Array(json.utf8))
            if repeats {
                #expect(result == nil, "\(json)")
            } else {
                // Without a repeat, only the fillers' own types may refuse it, never a duplicate.
                do {
                    _ = try WireJSON.decode(Wrapper.self, from: Array(json.utf8))
                } catch {
                    #expect(!error.message.contains("appears twice"), "\(json): \(error)")
                }
            }
        }
    }

    /// Any JSON object: what the keys hold does not matter here.
    struct Wrapper: Decodable, Equatable {
        init(from decoder: any Decoder) throws {}
    }

    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
