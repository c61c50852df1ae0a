/// What a job asks for and what a node offers. CPUs are whole cores, as in Slurm; memory is in bytes.
public struct Resources: Hashable, Sendable {
    public var gpus: Int
    public var cpus: Int
    public var memory: Int64

    public init(gpus: Int = 0, cpus: Int = 0, memory: Int64 = 0) {
        self.gpus = gpus
        self.cpus = cpus
        self.memory = memory
    }

    public static let zero = Resources()

    public func fits(in available: Resources) -> Bool {
        gpus <= available.gpus && cpus <= available.cpus && memory <= available.memory
    }

    public static func + (lhs: Resources, rhs: Resources) -> Resources {
        Resources(gpus: lhs.gpus + rhs.gpus, cpus: lhs.cpus + rhs.cpus, memory: lhs.memory + rhs.memory)
    }

    public static func - (lhs: Resources, rhs: Resources) -> Resources {
        Resources(gpus: lhs.gpus - rhs.gpus, cpus: lhs.cpus - rhs.cpus, memory: lhs.memory - rhs.memory)
    }
}

/// Byte sizes as people write them: `512`, `512M`, `32G`, `1.5T`, `8Gi`, `1P`. Powers of 1024, as Slurm and
/// Kubernetes' `Gi` do; a bare number is bytes.
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? { parse(text, decimal: false) }

    /// GPU memory as vendors name it: an "80 GB" H100 has 81,559 MiB (79.6 GiB), a "48 GB" L40S 46,068 MiB, so
    /// `80G` here is 80 x 10^9 bytes (76,294 MiB), which both fit; `80Gi` is binary, a bare number is bytes.
    public static func parseGPUMemory(_ text: String) -> Int64? { parse(text, decimal: true) }

    static func parse(_ text: String, decimal: Bool) -> Int64? {
        var digits = Substring(text.trimmingSpaces())
        guard !digits.isEmpty, digits.count <= 32 else { return nil }
        var multiplier: Double = 1
        var base: Double = decimal ? 1000 : 1024
        if digits.hasSuffix("iB") || digits.hasSuffix("ib") {
            digits = digits.dropLast(2)
            base = 1024
        } else if digits.hasSuffix("i") {
            digits = digits.dropLast()
            base = 1024
        } else if digits.hasSuffix("B") || digits.hasSuffix("b") {
            digits = digits.dropLast()
        }
        if let unit = digits.last, unit.isLetter {
            switch unit.lowercased() {
            case "k": multiplier = base
            case "m": multiplier = base * base
            case "g": multiplier = base * base * base
            case "t": multiplier = base * base * base * base
            case "p": multiplier = base * base * base * base * base
            default: return nil
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(digits), value >= 0
        else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.0e18 else { return nil }
        return Int64(bytes)
    }

    /// `34359738368` -> `32G`; exact units when they divide, else one decimal.
    public static func format(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]
        for (size, name) in units where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size)\(name)" }
            // Round the remainder only, so huge values cannot overflow.
            var whole = bytes / size
            var tenth = (bytes % size * 10 + size / 2) / size
            if tenth == 10 {
                whole += 1
                tenth = 0
            }
            return "\(whole).\(tenth)\(name)"
        }
        return "\(bytes)"
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}
