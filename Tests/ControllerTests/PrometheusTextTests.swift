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
}
