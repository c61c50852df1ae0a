import Testing

@testable import ClusterStore

/// The pure parts of the PostgreSQL layer: placeholders, the URL shown in messages, bytea's text form.
@Suite struct PostgresTextTests {
    @Test func placeholdersAreNumberedOutsideQuotesOnly() {
        #expect(PGPlaceholders.numbered("SELECT ? , ?") == "SELECT $1 , $2")
        #expect(
            PGPlaceholders.numbered("SELECT '?', \"a?\", ? WHERE x = '?''?'")
                == "SELECT '?', \"a?\", $1 WHERE x = '?''?'"
        )
        #expect(PGPlaceholders.numbered("no parameters") == "no parameters")
    }

    @Test func aPasswordInTheURLIsMaskedAndNoticed() {
        let masked = PGSettings(url: "postgres://corral:s3cret@db:5432/corral")
        #expect(masked.redacted == "postgres://corral:***@db:5432/corral" && masked.urlHasPassword)
        let plain = PGSettings(url: "postgres://corral@db/corral?sslmode=require")
        #expect(plain.redacted == plain.url && !plain.urlHasPassword)
        #expect(PGSettings(url: "host=db password=x").urlHasPassword)
        #expect(PGSettings(url: "postgres://db/c?PASSWORD=x").urlHasPassword)
    }

    @Test func byteaTextIsDecodedAndGarbageIsNot() {
        #expect(PGType.hexBytes("\\x00ff10Ab") == [0x00, 0xFF, 0x10, 0xAB])
        #expect(PGType.hexBytes("\\x") == [])
        #expect(PGType.hexBytes("\\x0") == nil)
        #expect(PGType.hexBytes("\\xzz") == nil)
        #expect(PGType.hexBytes("00ff") == nil)
    }
}
