/// The `nvidia-smi --query-gpu` contract: the fields asked for, the arguments, and a pure parser of the
/// CSV it prints. Running the command is `CommandRunner`'s job.
public enum NvidiaSMI {
    /// The fields, in this exact order: `Tests/NodeProbeTests/Fixtures/h100-real/query-gpu.csv` was recorded
    /// on a real H100 with it, and the parser reads columns by position.
    public static let queryFields: [String] = [
        "index",
        "uuid",
        "name",
        "pci.bus_id",
        "memory.total",
        "memory.used",
        "utilization.gpu",
        "temperature.gpu",
        "power.draw",
        "ecc.errors.uncorrected.volatile.total",
        "mig.mode.current",
        "driver_version",
    ]

    /// `["--query-gpu=index,uuid,...", "--format=csv,noheader,nounits"]`.
    public static var queryArguments: [String] {
        ["--query-gpu=" + queryFields.joined(separator: ","), "--format=csv,noheader,nounits"]
    }

    /// Parses the output of `nvidia-smi` run with `queryArguments`: one line per GPU, fields separated by
    /// `", "`. Blank lines and a header line (`index, uuid, ...`) are skipped; `[N/A]`, `[Not Supported]`,
    /// `N/A`, `ERR!` and any other bracketed note become nil; a unit left on a number (`81559 MiB`, `0 %`,
    /// `121.22 W`, as printed without `nounits`) is dropped. A line with the wrong number of fields, a
    /// missing index/uuid/name or a number that is not one throws `.parse` naming the line.
    public static func parseQueryGPU(_ output: String) throws(ProbeError) -> [GPUInfo] {
        var gpus: [GPUInfo] = []
        var lineNumber = 0
        for rawLine in output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            if gpus.isEmpty, fields.first == "index", fields.dropFirst().first == "uuid" {
                continue  // a header line (`--format=csv` without `noheader`)
            }
            guard fields.count == queryFields.count else {
                throw ProbeError(
                    .parse,
                    "nvidia-smi output line \(lineNumber): expected \(queryFields.count) comma-separated fields, "
                        + "got \(fields.count): \(excerpt(line))"
                )
            }
            let parser = FieldParser(line: lineNumber, text: line)
            guard let index = try parser.integer(fields[0], "index") else {
                throw parser.error("index is missing")
            }
            guard let uuid = parser.text(fields[1]) else { throw parser.error("uuid is missing") }
            guard let name = parser.text(fields[2]) else { throw parser.error("name is missing") }
            gpus.append(
                GPUInfo(
                    index: index,
                    uuid: uuid,
                    name: name,
                    pciBusID: parser.text(fields[3]),
                    memoryTotalMiB: try parser.integer(fields[4], "memory.total"),
                    memoryUsedMiB: try parser.integer(fields[5], "memory.used"),
                    utilizationPercent: try parser.integer(fields[6], "utilization.gpu"),
                    temperatureC: try parser.integer(fields[7], "temperature.gpu"),
                    powerDrawW: try parser.decimal(fields[8], "power.draw"),
                    eccErrorsUncorrected: try parser.integer(fields[9], "ecc.errors.uncorrected.volatile.total"),
                    migMode: parser.text(fields[10]),
                    driverVersion: parser.text(fields[11])
                )
            )
        }
        return gpus
    }

    /// True for the placeholders nvidia-smi prints instead of a value.
    /// `CUDA Version: 13.0` from the header of plain `nvidia-smi` (`--query-gpu` has no such field).
    public static func cudaVersion(_ summary: String) -> String? {
        for line in summary.split(separator: "\n") {
            guard
                let marker = line.split(separator: "CUDA Version:", maxSplits: 1, omittingEmptySubsequences: false)
                    .dropFirst().first
            else { continue }
            let version = marker.drop { $0 == " " }.prefix { $0.isNumber || $0 == "." }
            return version.isEmpty ? nil : String(version)
        }
        return nil
    }

    /// `nvidia-smi --query-compute-apps`: which processes hold GPU memory, and how much.
    public static let computeAppsArguments = [
        "--query-compute-apps=pid,gpu_uuid,used_memory,process_name", "--format=csv,noheader,nounits",
    ]

    /// A process holding memory on a GPU.
    public struct ComputeApp: Sendable, Hashable {
        public var pid: Int32
        public var gpuUUID: String
        public var usedMemoryMiB: Int?
    }

    /// Parses the output of `computeAppsArguments` (`520, GPU-c13a..., 710, /path/check`); no processes is
    /// an empty output. The process name, last, may itself hold commas. Lines that are not a process (the
    /// "No running processes found" note some versions print) are skipped; a bad pid or memory throws.
    public static func parseComputeApps(_ output: String) throws(ProbeError) -> [ComputeApp] {
        var apps: [ComputeApp] = []
        for (number, raw) in output.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.trimmingSpaces()
            let fields = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false).map {
                $0.trimmingSpaces()
            }
            guard fields.count >= 3, line.first?.isNumber == true else { continue }
            let parser = FieldParser(line: number + 1, text: line)
            guard let pid = try parser.integer(fields[0], "pid"), pid > 0, pid <= Int(Int32.max) else {
                throw parser.error("pid is not a process id")
            }
            let used = try parser.integer(fields[2], "used_memory")
            if let used, used < 0 { throw parser.error("used_memory is negative") }
            apps.append(ComputeApp(pid: Int32(pid), gpuUUID: fields[1], usedMemoryMiB: used))
        }
        return apps
    }

    static func isPlaceholder(_ field: String) -> Bool {
        if field.isEmpty || field == "N/A" || field == "ERR!" || field == "Unknown Error" { return true }
        return field.hasPrefix("[") && field.hasSuffix("]")
    }

    static func excerpt(_ line: String) -> String {
        line.count > 200 ? String(line.prefix(200)) + "..." : line
    }
}

private struct FieldParser {
    let line: Int
    let text: String

    func error(_ message: String) -> ProbeError {
        ProbeError(.parse, "nvidia-smi output line \(line): \(message): \(NvidiaSMI.excerpt(text))")
    }

    func text(_ field: String) -> String? {
        NvidiaSMI.isPlaceholder(field) ? nil : field
    }

    func integer(_ field: String, _ name: String) throws(ProbeError) -> Int? {
        if NvidiaSMI.isPlaceholder(field) { return nil }
        guard let value = Int(stripUnit(field)) else { throw error("\(name) is not an integer (\"\(field)\")") }
        return value
    }

    func decimal(_ field: String, _ name: String) throws(ProbeError) -> Double? {
        if NvidiaSMI.isPlaceholder(field) { return nil }
        guard let value = Double(stripUnit(field)), value.isFinite else {
            throw error("\(name) is not a number (\"\(field)\")")
        }
        return value
    }

    private func stripUnit(_ field: String) -> String {
        for unit in [" MiB", " %", " W", " C"] where field.hasSuffix(unit) {
            return String(field.dropLast(unit.count))
        }
        return field
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines (no Foundation needed).
    func trimmingSpaces() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else {
            return ""
        }
        return String(self[first...last])
    }
}
