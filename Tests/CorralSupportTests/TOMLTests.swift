import Testing

@testable import CorralSupport

@Suite("TOML parser and writer")
struct TOMLTests {
    // MARK: - Parsing

    @Test("an agent.toml with comments, tables, dotted keys and inline tables")
    func agentConfig() throws {
        let text = """
            # ~/.corral/agent.toml
            controller = "https://corral.example:8443"   # where to register
            token = 'c0rr@l\\token'
            labels = ["a100", "ib",]
            node.name = "gpu-07"
            node.drain = false

            [gpus]
            count = 8
            name = "NVIDIA A100-SXM4-80GB"
            memory_mib = 81_920
            "weird key" = { enabled = true, ratio = 0.5 }

            [limits.memory]
            reserve_bytes = 0x4000_0000
            """
        let table = try TOML.parse(text)
        #expect(table.keys == ["controller", "token", "labels", "node", "gpus", "limits"])
        #expect(table["controller"]?.stringValue == "https://corral.example:8443")
        #expect(table["token"]?.stringValue == "c0rr@l\\token")
        #expect(table["labels"] == ["a100", "ib"])
        #expect(table.value(at: ["node", "name"]) == "gpu-07")
        #expect(table.value(at: ["node", "drain"])?.boolValue == false)
        #expect(table.value(at: ["gpus", "count"])?.intValue == 8)
        #expect(table.value(at: ["gpus", "memory_mib"])?.int64Value == 81920)
        #expect(table.value(at: ["gpus", "weird key", "ratio"])?.doubleValue == 0.5)
        #expect(table.value(at: ["gpus", "weird key", "enabled"]) == true)
        #expect(table.value(at: ["limits", "memory", "reserve_bytes"]) == .integer(1 << 30))
        #expect(table["gpus"]?.tableValue?.keys == ["count", "name", "memory_mib", "weird key"])
    }

    @Test("a job spec with an array of tables and multi-line strings")
    func jobSpec() throws {
        let text = #"""
            name = "train-llm"
            command = """
            python train.py \
                --epochs 3
            echo "done"
            """
            notes = '''
            C:\path\with 'quotes' and "doubles"'''
            env = { CUDA_LAUNCH_BLOCKING = "1", "MY VAR" = "x y" }

            [[mounts]]
            source = "/data"
            target = "/mnt/data"

            [[mounts]]
            source = "/scratch"
            read_only = true

            [mounts.options]
            size = "10G"
            """#
        let table = try TOML.parse(text)
        #expect(table["command"]?.stringValue == "python train.py --epochs 3\necho \"done\"\n")
        #expect(table["notes"]?.stringValue == "C:\\path\\with 'quotes' and \"doubles\"")
        #expect(table.value(at: ["env", "MY VAR"]) == "x y")
        let mounts = try #require(table["mounts"]?.arrayValue)
        #expect(mounts.count == 2)
        #expect(mounts[0].tableValue?["source"] == "/data")
        #expect(mounts[1].tableValue?["read_only"] == true)
        #expect(mounts[1].tableValue?.value(at: ["options", "size"]) == "10G")
        #expect(mounts[0].tableValue?["options"] == nil)
    }

    @Test("strings: escapes, unicode, quotes at the end of multi-line strings")
    func strings() throws {
        let table = try TOML.parse(
            #"""
            a = "tab\there \"q\" back\\slash \u00e9 \U0001F600 nl\n"
            b = 'no \escapes here'
            c = """""quoted"""""
            d = ''''single''''
            e = ""
            f = "日本語"
            g = """
            line1\r
            line2"""
            h = "\b\f\e"
            """#
        )
        #expect(table["a"] == "tab\there \"q\" back\\slash é 😀 nl\n")
        #expect(table["b"] == "no \\escapes here")
        #expect(table["c"] == "\"\"quoted\"\"")
        #expect(table["d"] == "'single'")
        #expect(table["e"] == "")
        #expect(table["f"] == "日本語")
        #expect(table["g"] == "line1\r\nline2")
        #expect(table["h"] == "\u{08}\u{0C}\u{1B}")
    }

    @Test("integers and floats")
    func numbers() throws {
        let table = try TOML.parse(
            """
            a = 42
            b = +17
            c = -1_000
            d = 0
            e = 0xDEAD_beef
            f = 0o755
            g = 0b1101
            h = 9223372036854775807
            i = -9223372036854775808
            j = 3.14
            k = -0.01
            l = 5e+22
            m = 1e06
            n = -2E-2
            o = 6.626e-34
            p = 224_617.445_991
            q = inf
            r = -inf
            s = nan
            t = +0.0
            """
        )
        #expect(table["a"] == 42)
        #expect(table["b"] == 17)
        #expect(table["c"] == -1000)
        #expect(table["d"] == 0)
        #expect(table["e"] == .integer(0xDEAD_BEEF))
        #expect(table["f"] == .integer(0o755))
        #expect(table["g"] == 13)
        #expect(table["h"] == .integer(.max))
        #expect(table["i"] == .integer(.min))
        #expect(table["j"] == 3.14)
        #expect(table["k"] == -0.01)
        #expect(table["l"] == 5e22)
        #expect(table["m"] == 1e6)
        #expect(table["n"] == -0.02)
        #expect(table["o"] == 6.626e-34)
        #expect(table["p"] == 224_617.445_991)
        #expect(table["q"] == .float(.infinity))
        #expect(table["r"] == .float(-.infinity))
        #expect(table["s"]?.doubleValue?.isNaN == true)
        #expect(table["t"] == 0.0)
        #expect(table["a"]?.doubleValue == 42)  // integers read as floats where a float is wanted
    }

    @Test("arrays: nested, mixed, multi-line with comments and a trailing comma")
    func arrays() throws {
        let table = try TOML.parse(
            """
            a = [
              1,  # one
              2,
              # nothing here
              3,
            ]
            b = [[1, 2], ["x"], [], [{ k = "v" }]]
            c = []
            d = [ "a", 1, 2.5, true ]
            """
        )
        #expect(table["a"] == [1, 2, 3])
        #expect(table["b"] == [[1, 2], ["x"], [], [["k": "v"]]])
        #expect(table["c"] == [])
        #expect(table["d"] == ["a", 1, 2.5, true])
    }

    @Test("headers: implicit parents, later definition, sub-tables of dotted tables")
    func headers() throws {
        let table = try TOML.parse(
            """
            [x.y.z]
            a = 1
            [x]   # defining x after x.y.z made it implicitly is fine
            b = 2
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]   # a sub-table of a table made by dotted keys
            smooth = true
            [ "quoted key" . 'lit' ]
            v = 1
            """
        )
        #expect(table.value(at: ["x", "y", "z", "a"]) == 1)
        #expect(table.value(at: ["x", "b"]) == 2)
        #expect(table.value(at: ["fruit", "apple", "color"]) == "red")
        #expect(table.value(at: ["fruit", "apple", "texture", "smooth"]) == true)
        #expect(table.value(at: ["quoted key", "lit", "v"]) == 1)
        #expect(table.keys == ["x", "fruit", "quoted key"])
    }

    @Test("empty documents, CRLF, a byte order mark")
    func blanks() throws {
        #expect(try TOML.parse("").isEmpty)
        #expect(try TOML.parse("\n\n# only a comment\n   \n").isEmpty)
        #expect(try TOML.parse("a = 1\r\nb = 2\r\n") == ["a": 1, "b": 2])
        #expect(try TOML.parse("\u{FEFF}a = 1") == ["a": 1])
    }

    // MARK: - Errors

    @Test(
        "errors carry the line and say what is wrong",
        arguments: [
            ("a = 1\na = 2", 2, "duplicate key a"),
            ("[t]\nx = 1\ny = 2\nx = 3", 4, "duplicate key t.x"),
            ("a.b = 1\na.b = 2", 2, "duplicate key a.b"),
            ("[a]\nx = 1\n[a]\n", 3, "table [a] is defined more than once"),
            ("a.b = 1\n[a]\n", 2, "table [a] is defined more than once"),
            ("[a.b]\nx = 1\n[a]\nb.y = 2", 4, "defined by a [header]"),
            ("a = 1\n[a]", 2, "a is already an integer"),
            ("a = [1]\n[[a]]", 2, "a is already an array"),
            ("a = { b = 1 }\n[a]", 2, "a is already an inline table"),
            ("a = { b = 1 }\na.c = 2", 2, "a is already an inline table"),
            ("[a]\n[[a]]", 2, "a is already a table"),
            ("[[a]]\n[a]", 2, "a is already an array of tables"),
            ("a = { b = 1, b = 2 }", 1, "duplicate key b"),
            ("\n\na = \"abc\nb = 1", 3, "unterminated string"),
            ("a = 'abc", 1, "unterminated string"),
            ("x = 1\na = \"\"\"abc\n\nb = 1", 2, "unterminated multi-line string"),
            ("a = '''abc", 1, "unterminated multi-line string"),
            ("x = 1\na = [1,\n2,\n", 2, "unterminated array"),
            ("a = [1 2]", 1, "expected ',' or ']' in array, found '2'"),
            ("a = { b = 1", 1, "unterminated inline table"),
            ("a = { b = 1 c = 2 }", 1, "expected ',' or '}' in inline table"),
            ("a = \"bad \\q escape\"", 1, "invalid escape \\q"),
            ("a = \"\\uD800\"", 1, "invalid unicode escape \\uD800"),
            ("a = \"\\u12\"", 1, "incomplete unicode escape"),
            ("a = \"\\u12G4\"", 1, "invalid unicode escape \\u12G4"),
            ("a = \"\\U0011FFFF\"", 1, "not a Unicode scalar"),
            ("a = 1__0", 1, "invalid number '1__0'"),
            ("a = 1_", 1, "invalid number"),
            ("a = 01", 1, "leading zero"),
            ("a = 1.", 1, "invalid number"),
            ("a = .5", 1, "invalid number"),
            ("a = 1e", 1, "invalid number"),
            ("a = 3.14.15", 1, "invalid number"),
            ("a = 0xG1", 1, "invalid number"),
            ("a = +0x10", 1, "invalid number"),
            ("a = 9223372036854775808", 1, "integer overflow"),
            ("a = -9223372036854775809", 1, "integer overflow"),
            ("a = 0xFFFFFFFFFFFFFFFF", 1, "integer overflow"),
            ("a = 1e400", 1, "out of range"),
            ("a = 1 2", 1, "garbage after value: '2'"),
            ("a = \"x\" y", 1, "garbage after value: 'y'"),
            ("a = true false", 1, "garbage after value"),
            ("[a] b = 1", 1, "garbage after table header"),
            ("a =\nb = 1", 1, "expected a value after '='"),
            ("a = ", 1, "expected a value, found end of input"),
            ("a = hello", 1, "invalid value 'hello' (strings must be quoted)"),
            ("a = 1979-05-27", 1, "dates and times are not supported"),
            ("a = 07:32:00", 1, "dates and times are not supported"),
            ("a\nb = 1", 1, "expected '=' after key a"),
            ("= 1", 1, "expected a key, found '='"),
            ("[]", 1, "expected a key"),
            ("[a", 1, "expected ']' to close the table header"),
            ("[[a]", 1, "expected ']]'"),
            ("a = \"ctl \u{01}\"", 1, "control character U+0001 in string"),
            ("a = 1\rb = 2", 1, "carriage return not followed by a newline"),
            ("\"\"\"k\"\"\" = 1", 1, "a key cannot be a multi-line string"),
            ("a = \"\"\"\nx\ny\n\"\"\"\nb = 1\nb = 2", 6, "duplicate key b"),
            ("a = [\n1,\n2\n]\nc = [\n# x\n]\nd = 1 1", 8, "garbage after value"),
        ]
    )
    func errors(text: String, line: Int, message: String) {
        let error = #expect(throws: TOMLError.self) { try TOML.parse(text) }
        #expect(error?.line == line, "\(error?.description ?? "no error")")
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "no error")")
    }

    @Test("the error's description is 'line N: message'")
    func errorDescription() {
        let error = #expect(throws: TOMLError.self) { try TOML.parse("a = 1\nb = 2\nc = \"open") }
        #expect(error?.description == "line 3: unterminated string")
    }

    // MARK: - Limits against hostile input

    @Test("input over 1 MiB is refused")
    func inputSizeCap() {
        let text = String(repeating: "# padding padding padding padding\n", count: 40_000)
        let error = #expect(throws: TOMLError.self) { try TOML.parse(text) }
        #expect(error?.message.contains("1 MiB") == true)
    }

    @Test("a large document under the cap parses")
    func largeDocument() throws {
        var text = ""
        for index in 0..<40_000 { text += "key_\(index) = \(index)\n" }
        let table = try TOML.parse(text)
        #expect(table.count == 40_000)
        #expect(table["key_39999"] == 39999)
    }

    @Test(
        "deep nesting is an error, never a stack overflow",
        arguments: [
            "a = " + String(repeating: "[", count: 100_000),
            "a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            "a = " + String(repeating: "{ b = ", count: 1000),
            "a = " + String(repeating: "[{ b = ", count: 1000),
            "[" + Array(repeating: "a", count: 1000).joined(separator: ".") + "]",
            Array(repeating: "a", count: 1000).joined(separator: ".") + " = 1",
        ]
    )
    func depthCap(text: String) {
        let error = #expect(throws: TOMLError.self) { try TOML.parse(text) }
        #expect(error?.message.contains("64") == true, "\(error?.description ?? "")")
    }

    @Test("nesting up to the cap is fine, one more is not")
    func depthWithinCap() throws {
        let depth = TOML.maxDepth
        let text = "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try #require(try TOML.parse(text)["a"])
        for _ in 1..<depth { value = try #require(value.arrayValue?.first) }
        #expect(value == [])
        #expect(throws: TOMLError.self) { try TOML.parse("a = [" + text.dropFirst(4) + "]") }
    }

    @Test("garbage bytes produce errors, not crashes")
    func garbageInput() {
        let samples = [
            "\u{0}", "[[[[", "]]]]", "{", "\"", "'''", "a = {", "a.=1", "a..b = 1", "[a.]", "a = [,]", "a = {,}",
        ]
        for sample in samples {
            #expect(throws: TOMLError.self, "\(sample)") { try TOML.parse(sample) }
        }
    }

    // MARK: - Writing

    @Test("render writes values, then tables, then arrays of tables, in key order")
    func renderLayout() {
        var gpus = TOMLTable()
        gpus.set("count", 8)
        gpus.set("name", "NVIDIA H100 80GB HBM3")
        var table = TOMLTable()
        table.set("gpus", .table(gpus))
        table.set("controller", "https://c:8443")
        table.set("mounts", [["source": "/data"], ["source": "/x y"]])
        table.set("labels", ["a", "b"])
        table.set("needs quoting", "tab\tquote\"")
        table.set("env", ["K": "v"])
        #expect(
            TOML.render(table) == """
                controller = "https://c:8443"
                labels = ["a", "b"]
                "needs quoting" = "tab\\tquote\\""

                [gpus]
                count = 8
                name = "NVIDIA H100 80GB HBM3"

                [env]
                K = "v"

                [[mounts]]
                source = "/data"

                [[mounts]]
                source = "/x y"

                """
        )
    }

    @Test("parse(render(x)) == x for every kind of value")
    func roundTrip() throws {
        var inner = TOMLTable()
        inner.set("deep", ["x": ["y": ["z": 1]]])
        inner.set("empty", .table(TOMLTable()))
        var element = TOMLTable()
        element.set("name", "first")
        element.set("sub", ["k": "v"])
        element.set("nested", [["n": 1], ["n": 2]])
        var table: TOMLTable = [
            "string": "plain",
            "escapes": "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} del \u{7F} nul \u{0}",
            "unicode": "é 日本 😀",
            "": "empty key",
            "key with spaces": "v",
            "dotted.key": "not a path",
            "int max": .integer(.max),
            "int min": .integer(.min),
            "floats": [
                0.1, 1.0, -0.0, 1e16, 1.5e-300, .float(.leastNonzeroMagnitude), .float(.infinity), .float(-.infinity),
            ],
            "bools": [true, false],
            "empty array": [],
            "mixed": [1, "two", 3.0, [4], ["five": 5]],
            "inline in array": [["a": 1], 2],
        ]
        table.set("inner", .table(inner))
        table.set("array of tables", [.table(element), ["name": "second"]])
        let rendered = TOML.render(table)
        let parsed = try TOML.parse(rendered)
        #expect(parsed == table, "\(rendered)")
        #expect(TOML.render(parsed) == rendered)  // stable
    }

    @Test("a parsed document round-trips")
    func roundTripDocument() throws {
        let text = """
            a.b.c = 1
            list = [1, [2, 3], { x = "y" }]
            [t]
            s = '''multi
            line'''
            [[t.jobs]]
            id = 1
            [t.jobs.env]
            X = "1"
            [[t.jobs]]
            id = 2
            """
        let table = try TOML.parse(text)
        #expect(try TOML.parse(TOML.render(table)) == table)
    }

    @Test("nan renders as nan and reads back as nan")
    func nan() throws {
        let rendered = TOML.render(["x": .float(.nan)])
        #expect(rendered == "x = nan\n")
        #expect(try TOML.parse(rendered)["x"]?.doubleValue?.isNaN == true)
    }

    // MARK: - The table type

    @Test("set keeps the position of an existing key; nil removes")
    func tableEditing() {
        var table: TOMLTable = ["a": 1, "b": 2, "c": 3]
        table.set("b", "two")
        #expect(table.keys == ["a", "b", "c"])
        #expect(table["b"] == "two")
        table["a"] = nil
        #expect(table.keys == ["b", "c"])
        table["d"] = 4
        #expect(table.keys == ["b", "c", "d"])
        #expect(table.count == 3)
    }

    @Test("equality ignores key order")
    func equality() {
        let one: TOMLTable = ["a": 1, "b": 2]
        let two: TOMLTable = ["b": 2, "a": 1]
        #expect(one == two)
        #expect(one.hashValue == two.hashValue)
        #expect(one != ["a": 1])
        #expect(TOMLValue.integer(1) != .float(1))
    }

    @Test("accessors return nil for other types")
    func accessors() {
        let value: TOMLValue = "text"
        #expect(value.stringValue == "text")
        #expect(value.intValue == nil)
        #expect(value.boolValue == nil)
        #expect(value.arrayValue == nil)
        #expect(value.tableValue == nil)
        #expect(value.doubleValue == nil)
        #expect(value.typeName == "string")
    }
}
