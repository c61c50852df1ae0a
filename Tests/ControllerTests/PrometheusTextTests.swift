import Testing

@testable import ControllerKit

@Suite struct PrometheusTextTests {
    @Test func familiesSamplesAndEscapedLabels() {
        var text = PrometheusText()
        text.family("corral_x", "gauge", "An example.")
        text.sample("corral_x", [:], 3)
        text.sample("corral_x", ["node": "a\"b\\c\nd", "gpu": "0"], -1)
        #expect(
            text.text == """
                # HELP corral_x An example.
                # TYPE corral_x gauge
                corral_x 3
                corral_x{gpu="0",node="a\\"b\\\\c\\nd"} -1

                """
        )
    }

    /// "\r\n" is a single Character in Swift: escaping by Character would let it through as a line break.
    @Test func crlfCannotStartANewSample() {
        var text = PrometheusText()
        text.sample("corral_x", ["uuid": "GPU-1\r\ncorral_fake 1"], 1)
        // Count raw line feeds (a String split by Character would not see the one inside "\r\n" either).
        #expect(text.text.utf8.filter { $0 == 0x0A }.count == 1, "\(text.text)")
    }
}
