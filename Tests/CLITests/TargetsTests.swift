import Testing

@testable import CLIKit

/// `Targets.expandIndexes`: rows of the last listing by index, list and range; other words pass through, and so
/// do three or four digits that name no row (an id's start or end: ids made close together differ in their last
/// letters, which may all be digits).
@Suite struct TargetsTests {
    static let listing = ["aaa0000001", "aaa0000002", "aaa0000003"]

    @Test func rowsListsAndRangesNameTheListedJobs() throws {
        #expect(try Targets.expandIndexes(["2"], listing: Self.listing) == ["aaa0000002"])
        #expect(try Targets.expandIndexes(["1,3"], listing: Self.listing) == ["aaa0000001", "aaa0000003"])
        #expect(try Targets.expandIndexes(["2-3"], listing: Self.listing) == ["aaa0000002", "aaa0000003"])
        #expect(try Targets.expandIndexes(["003"], listing: Self.listing) == ["aaa0000003"])
        #expect(try Targets.expandIndexes(["hello", "cbp5"], listing: Self.listing) == ["hello", "cbp5"])
    }

    @Test func threeOrFourDigitsThatNameNoRowAreAnIdsStartOrEnd() throws {
        #expect(try Targets.expandIndexes(["6069"], listing: Self.listing) == ["6069"])
        #expect(try Targets.expandIndexes(["0000", "404"], listing: Self.listing) == ["0000", "404"])
        #expect(try Targets.expandIndexes(["6069"], listing: nil) == ["6069"])
        // Five digits or more were never rows.
        #expect(try Targets.expandIndexes(["60691"], listing: Self.listing) == ["60691"])
    }

    @Test func shortIndexesListsAndRangesBeyondTheListingAreStillErrors() {
        for word in ["4", "12", "1,9", "2-9", "0-2"] {
            #expect(throws: CLIError.self) { try Targets.expandIndexes([word], listing: Self.listing) }
        }
        #expect(throws: CLIError.self) { try Targets.expandIndexes(["2"], listing: nil) }
    }
}
