import ClusterCore
import NodeProbe

/// `corral-agent probe` output.
enum ProbeReport {
    static func table(_ inventory: NodeInventory) -> String {
        var lines = [
            "hostname  \(inventory.hostname)",
            "cpus      \(inventory.cpus)",
            "memory    \(ByteSize.format(inventory.memoryBytes))",
            "gpus      \(inventory.gpus.count) (\(inventory.gpuSource))",
        ]
        if let driver = inventory.driverVersion { lines.append("driver    \(driver)") }
        if let cuda = inventory.cudaVersion { lines.append("cuda      \(cuda)") }
        if let boot = inventory.bootID { lines.append("boot id   \(boot)") }
        if !inventory.gpus.isEmpty {
            lines.append("")
            lines.append("INDEX  NAME                           MEMORY     UTIL  TEMP  HEALTHY  UUID")
            for gpu in inventory.gpus {
                let memory = gpu.memoryTotalMiB.map { "\($0) MiB" } ?? "-"
                let util = gpu.utilizationPercent.map { "\($0)%" } ?? "-"
                let temp = gpu.temperatureC.map { "\($0)C" } ?? "-"
                lines.append(
                    "\(pad("\(gpu.index)", 6)) \(pad(gpu.name, 30)) \(pad(memory, 10)) \(pad(util, 5)) "
                        + "\(pad(temp, 5)) \(pad(gpu.isHealthy ? "yes" : "NO", 8)) \(gpu.uuid)"
                )
            }
        }
        if let links = inventory.gpuTopology, links.count > 1 {
            lines.append("")
            lines.append("topology  " + links.indices.map { pad("GPU\($0)", 5) }.joined(separator: " "))
            for (index, row) in links.enumerated() {
                lines.append(pad("GPU\(index)", 9) + " " + row.map { pad($0, 5) }.joined(separator: " "))
            }
        }
        for warning in inventory.warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ inventory: NodeInventory) -> String {
        func quote(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case _ where scalar.value < 0x20: out += "\\u00" + String(scalar.value, radix: 16).leftPad(2)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        func optional<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "null" }
        let gpus = inventory.gpus.map { gpu in
            "{\"index\":\(gpu.index),\"uuid\":\(quote(gpu.uuid)),\"name\":\(quote(gpu.name)),"
                + "\"memory_mib\":\(optional(gpu.memoryTotalMiB)),\"memory_used_mib\":\(optional(gpu.memoryUsedMiB)),"
                + "\"utilization\":\(optional(gpu.utilizationPercent)),\"temperature_c\":\(optional(gpu.temperatureC)),"
                + "\"ecc_errors_uncorrected\":\(optional(gpu.eccErrorsUncorrected)),\"healthy\":\(gpu.isHealthy)}"
        }
        return "{\"hostname\":\(quote(inventory.hostname)),\"cpus\":\(inventory.cpus),"
            + "\"memory\":\(inventory.memoryBytes),\"gpu_source\":\(quote(inventory.gpuSource)),"
            + "\"driver_version\":\(inventory.driverVersion.map(quote) ?? "null"),"
            + "\"cuda_version\":\(inventory.cudaVersion.map(quote) ?? "null"),"
            + "\"gpu_topology\":"
            + (inventory.gpuTopology.map {
                "[" + $0.map { "[" + $0.map(quote).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
            }
                ?? "null") + ","
            + "\"boot_id\":\(inventory.bootID.map(quote) ?? "null"),"
            + "\"gpus\":[\(gpus.joined(separator: ","))],"
            + "\"warnings\":[\(inventory.warnings.map(quote).joined(separator: ","))]}\n"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
