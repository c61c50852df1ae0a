import ClusterCore

/// Slurm job ids are numbers; Corral's are 10 letters of a 32-letter alphabet (50 bits). The two map one to
/// one: the letters are the number's base-32 digits (`JobID.alphabet`), so `sbatch` prints a number every tool
/// can parse and `scancel`/`sacct`/`squeue -j` take it back, with no table anywhere. An array task is
/// `NUMBER_INDEX`, as in Slurm. An id of any other shape (none is made today) is shown as it is.
enum SlurmJobID {
    static let digits = 10

    /// The number (or `NUMBER_INDEX`) Slurm's commands show for a Corral job id.
    static func number(of id: String) -> String {
        if let underscore = id.lastIndex(of: "_") {
            let index = id[id.index(after: underscore)...]
            if !index.isEmpty, index.allSatisfy({ $0.isASCII && $0.isNumber }) {
                return number(of: String(id[..<underscore])) + "_" + index
            }
        }
        guard id.count == digits else { return id }
        var value: UInt64 = 0
        for character in id {
            guard let digit = JobID.alphabet.firstIndex(of: character) else { return id }
            value = value * 32 + UInt64(digit)
        }
        return String(value)
    }

    /// The Corral id a Slurm id names: a number, `NUMBER_INDEX`, or a Corral id as it is (10 letters of its
    /// alphabet); nil when it is none of these.
    static func corralID(_ text: String) -> String? {
        if let underscore = text.firstIndex(of: "_") {
            let index = text[text.index(after: underscore)...]
            guard !index.isEmpty, index.count <= 8, index.allSatisfy({ $0.isASCII && $0.isNumber }),
                let base = corralID(String(text[..<underscore]))
            else { return nil }
            return base + "_" + index
        }
        if !text.isEmpty, text.count <= 16, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let value = UInt64(text), value < (1 << 50) else { return nil }
            var digits: [Character] = []
            var rest = value
            for _ in 0..<Self.digits {
                digits.append(JobID.alphabet[Int(rest % 32)])
                rest /= 32
            }
            return String(digits.reversed())
        }
        // A Corral id as Corral makes them.
        return text.count == digits && text.allSatisfy({ JobID.alphabet.contains($0) }) ? text : nil
    }
}
