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

    /// Families declared together and their samples given interleaved (as a walk over nodes gives them) come
    /// out grouped, each under its header; a histogram's series stay with their family.
    @Test func samplesGoUnderTheirOwnFamily() {
        var text = PrometheusText()
        text.family("corral_a", "gauge", "A.")
        text.family("corral_b", "gauge", "B.")
        text.family("corral_h", "histogram", "H.")
        for node in ["n1", "n2"] {
            text.sample("corral_a", ["node": node], 1)
            text.sample("corral_h_bucket", ["le": "+Inf"], 2)
            text.sample("corral_b", ["node": node], 2)
        }
        text.sample("corral_h_sum", [:], 0.5)
        text.sample("corral_h_count", [:], 2)
        #expect(
            text.text == """
                # HELP corral_a A.
                # TYPE corral_a gauge
                corral_a{node="n1"} 1
                corral_a{node="n2"} 1
                # HELP corral_b B.
                # TYPE corral_b gauge
                corral_b{node="n1"} 2
                corral_b{node="n2"} 2
                # HELP corral_h H.
                # TYPE corral_h histogram
                corral_h_bucket{le="+Inf"} 2
                corral_h_bucket{le="+Inf"} 2
                corral_h_sum 0.5
                corral_h_count 2

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
