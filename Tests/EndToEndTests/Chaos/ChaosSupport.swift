import Foundation
import Testing

/// The fault suite's sizes and counts (issue 18). `just qa` runs it small; `just chaos` sets CORRAL_CHAOS=full
/// and runs every round. Each scenario prints one line of counts (and appends it to CORRAL_CHAOS_REPORT when
/// set), and fails when anything acknowledged is lost, anything runs twice at once, or a log byte is lost or
/// duplicated.
enum Chaos {
    static let full = ProcessInfo.processInfo.environment["CORRAL_CHAOS"] == "full"

    /// The small size in `just qa`, the full one in `just chaos`.
    static func size(small: Int, full: Int) -> Int { Self.full ? full : small }

    /// `chaos NAME: key=value ...`, on stdout and in the report file.
    static func report(_ name: String, _ counts: KeyValuePairs<String, Int>) {
        let line = "chaos \(name): " + counts.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print(line)
        guard let path = ProcessInfo.processInfo.environment["CORRAL_CHAOS_REPORT"], !path.isEmpty else { return }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try? handle.close()
        } else {
            try? (line + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        }
    }
}

/// Proof of when each attempt of a job really ran: the job appends "ALLOCATION NANOSECONDS" to DIR/JOB every
/// 100 ms while it runs, from its own process, so the file says what ran whatever the controller recorded.
enum RunMarkers {
    /// A shell script that ticks for `ticks` × 100 ms (with `gate`, at least that and until the file `gate`
    /// exists: a run as long as the test needs, however loaded the machine), then exits with `exitCode`.
    static func script(directory: String, ticks: Int, exitCode: Int = 0, gate: String? = nil) -> String {
        let more = "[ $i -lt \(ticks) ]" + (gate.map { " || [ ! -e '\($0)' ]" } ?? "")
        return """
            i=0; while \(more); do echo "$CORRAL_ALLOCATION_ID $(date +%s%N)" >> "\(directory)/$CORRAL_JOB_ID"; \
            i=$((i+1)); sleep 0.1; done; exit \(exitCode)
            """
    }

    /// Each allocation's first and last tick, from the job's file.
    static func spans(directory: String, job: String) -> [String: ClosedRange<Int>] {
        let text = (try? String(contentsOfFile: "\(directory)/\(job)", encoding: .utf8)) ?? ""
        var spans: [String: ClosedRange<Int>] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let at = Int(fields[1]) else { continue }
            let key = String(fields[0])
            if let span = spans[key] {
                spans[key] = min(span.lowerBound, at)...max(span.upperBound, at)
            } else {
                spans[key] = at...at
            }
        }
        return spans
    }

    /// How many pairs of the job's allocations ticked at the same time: a job run twice at once.
    static func overlaps(directory: String, job: String) -> Int {
        let ranges = Array(spans(directory: directory, job: job).values)
        var count = 0
        for i in ranges.indices {
            for j in ranges.indices where j > i && ranges[i].overlaps(ranges[j]) { count += 1 }
        }
        return count
    }

    /// How many allocations of the job ticked at all.
    static func runs(directory: String, job: String) -> Int { spans(directory: directory, job: job).count }
}
