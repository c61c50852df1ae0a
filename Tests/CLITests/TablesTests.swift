import ClusterCore
import ClusterCoreTesting
import ClusterWire
import Testing

@testable import CLIKit

@Suite struct TablesTests {
    /// Checks that in every line each column starts at the same character offset (the header's), and that no line
    /// ends in a space. Returns the problems found.
    static func alignmentProblems(_ header: [String], _ rows: [[String]], _ text: String) -> [String] {
        var problems: [String] = []
        guard text.hasSuffix("\n") else { return ["no final newline"] }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        guard lines.count == rows.count + 1 else { return ["\(lines.count) lines for \(rows.count) rows"] }
        // Column starts, computed from the widths: each column is as wide as its widest cell, plus two spaces.
        var starts = [0]
        for column in 0..<(header.count - 1) {
            let width = ([header] + rows).map { $0[column].count }.max() ?? 0
            starts.append(starts[column] + width + 2)
        }
        for (lineIndex, (line, cells)) in zip(lines, [header] + rows).enumerated() {
            if line.last == " " { problems.append("line \(lineIndex) ends in a space") }
            for (column, cell) in cells.enumerated() {
                let start = starts[column]
                let expected = Array(cell)
                let end = min(line.count, start + expected.count)
                let found = start <= line.count ? Array(line[start..<end]) : []
                // A cell followed only by blank cells may have lost its trailing spaces to the trim.
                let restBlank = cells[(column + 1)...].allSatisfy { $0.allSatisfy { $0 == " " } }
                let wanted = restBlank ? Array(String(expected).trimmingTrailingSpaces()) : expected
                if Array(found.prefix(wanted.count)) != wanted {
                    problems.append("line \(lineIndex) column \(column): expected '\(cell)' at \(start)")
                }
                // Padding between the cell and the next column is spaces only.
                if column < cells.count - 1 {
                    let padEnd = min(line.count, starts[column + 1])
                    if start + expected.count <= padEnd,
                        line[(start + expected.count)..<padEnd].contains(where: { $0 != " " })
                    {
                        problems.append("line \(lineIndex) column \(column): padding is not spaces")
                    }
                }
            }
        }
        return problems
    }

    @Test func rendersAnAlignedTable() {
        let header = ["ID", "NAME", "STATE", "NODE"]
        let rows = [
            ["k3xq9mz2ab", "train", "RUNNING", "gpu-1"],
            ["a", "a-much-longer-name", "QUEUED", "-"],
            ["bbbbbbbbbbbbbbbbbbbb", "", "SUCCEEDED", "gpu-12.cluster.local"],
        ]
        let text = Tables.render(header, rows)
        #expect(Self.alignmentProblems(header, rows, text).isEmpty, "\(Self.alignmentProblems(header, rows, text))")
        #expect(
            text == """
                ID                    NAME                STATE      NODE
                k3xq9mz2ab            train               RUNNING    gpu-1
                a                     a-much-longer-name  QUEUED     -
                bbbbbbbbbbbbbbbbbbbb                      SUCCEEDED  gpu-12.cluster.local

                """
        )
    }

    @Test func noTrailingSpacesEvenWithEmptyLastCells() {
        let header = ["A", "B", "C"]
        let rows = [["1", "2", ""], ["1", "", ""], ["", "", ""], ["x", "y", "z  "]]
        let text = Tables.render(header, rows)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(!line.hasSuffix(" "), "'\(line)'")
        }
        #expect(Self.alignmentProblems(header, rows, text).isEmpty)
    }

    @Test func headerOnly() {
        #expect(Tables.render(["NODE", "STATUS"], []) == "NODE  STATUS\n")
        #expect(Tables.render(["ONE"], [["x"], ["longer"]]) == "ONE\nx\nlonger\n")
    }

    @Test func randomTablesAreAligned() {
        var rng = SplitMix64(seed: 11)
        let alphabet = Array("abcXYZ0123-_.:/ üé")
        for round in 0..<500 {
            let columns = Int.random(in: 1...7, using: &rng)
            func cell() -> String {
                String((0..<Int.random(in: 0...14, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            }
            let header = (0..<columns).map { _ in cell().uppercased() }
            let rows = (0..<Int.random(in: 0...9, using: &rng)).map { _ in (0..<columns).map { _ in cell() } }
            let text = Tables.render(header, rows)
            let problems = Self.alignmentProblems(header, rows, text)
            #expect(problems.isEmpty, "round \(round): \(problems.prefix(3))")
            if !problems.isEmpty { return }
        }
    }

    /// The checker must catch a misaligned table, or the tests above prove nothing.
    @Test func theCheckerCatchesMisalignment() {
        let header = ["A", "B"]
        let rows = [["long", "x"]]
        #expect(!Self.alignmentProblems(header, rows, "A  B\nlong  x\n").isEmpty)
        #expect(!Self.alignmentProblems(header, rows, "A     B\nlong  x \n").isEmpty)
        #expect(Self.alignmentProblems(header, rows, "A     B\nlong  x\n").isEmpty)
    }

    @Test func jobsTable() throws {
        var job = Job(
            id: JobID("k3xq9mz2ab"),
            spec: JobSpec(name: "", command: ["x"], resources: Resources(gpus: 2, cpus: 1, memory: 0)),
            user: "alice",
            submittedAt: .zero
        )
        job.pendingReason = .resources
        let queued = JobView(job)
        job.state = .failed
        var attempt = Attempt(
            number: 1,
            node: NodeID("gpu-1"),
            gpuIndices: [2, 3],
            resources: .zero,
            allocatedAt: .zero
        )
        attempt.exit = JobExit(code: 3)
        job.attempts = [attempt]
        let failed = JobView(job)
        let text = Tables.jobs([queued, failed], now: Timestamp(milliseconds: 125_000))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("ID"))
        #expect(lines[1].contains("QUEUED") && lines[1].contains("Resources") && lines[1].contains("  2  "))
        // TIME: a waiting job's age (2 min since it was submitted at 0).
        #expect(lines[1].contains("  2m  "), "\(lines[1])")
        #expect(lines[2].contains("FAILED") && lines[2].contains("gpu-1"), "\(text)")
        #expect(lines[2].hasSuffix("exit 3"))
        // Every row puts STATE at the header's offset.
        let header = Array(lines[0])
        let offset = try #require((0..<header.count).first { String(header[$0...].prefix(5)) == "STATE" })
        for line in lines.dropFirst() {
            let state = line.dropFirst(offset).prefix(6)
            #expect(state == "QUEUED" || state == "FAILED", "'\(line)'")
        }
        #expect(!text.contains(" \n"))
    }

    @Test(arguments: [
        ("train.py", "train.py"),
        ("--epochs=10", "--epochs=10"),
        ("a b", "'a b'"),
        ("", "''"),
        ("it's", #"'it'\''s'"#),
        ("$(rm -rf /)", "'$(rm -rf /)'"),
        ("a;b", "'a;b'"),
        ("*", "'*'"),
    ])
    func quote(_ argument: String, _ expected: String) {
        #expect(Tables.quote(argument) == expected)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var slice = Substring(self)
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}

@Suite struct DurationFormatTests {
    @Test(arguments: [
        (0, "0s"), (45, "45s"), (60, "1m"), (3599, "59m"), (3600, "1h00m"), (3900, "1h05m"), (90_000, "1d01h"),
    ])
    func durations(seconds: Int64, text: String) {
        #expect(Tables.duration(.seconds(seconds)) == text)
    }
}
