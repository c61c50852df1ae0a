import HTTPKit
import Testing

@Suite struct DigestTests {
    @Test func sha256Vectors() {
        #expect(Digest.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex(Array("abc".utf8)) == Digest.sha256Hex("abc"))
    }

    @Test func randomBytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(32).count == 32)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    @Test func tokens() {
        let tokens = (0..<100).map { _ in SecureRandom.token(prefix: "crl_", bytes: 20) }
        #expect(Set(tokens).count == 100)
        for token in tokens {
            #expect(token.hasPrefix("crl_"))
            #expect(token.count == 4 + 32)
            #expect(token.dropFirst(4).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        }
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals(Array("secret".utf8), Array("secret".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!constantTimeEquals(Array("secret".utf8), Array("secret!".utf8)))
        #expect(constantTimeEquals([], []))
    }
}
