/// Identifiers are thin wrappers over strings so that a job id can never be passed where a node id is wanted.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A random job id: 10 characters of lowercase base-32 (no look-alike letters), about 50 bits. Controllers
    /// made these before they made ids in order (`JobID+Ordered.swift`), and such ids stay valid; tests and the
    /// bench's seeding still make them.
    ///
    /// One draw of 64 bits for the ten letters (5 bits each, the alphabet has 32): the system generator makes a
    /// `getrandom` call per draw (one per letter was a tenth of a submission's system calls while controllers made
    /// ids so).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> JobID {
        var bits: UInt64 = generator.next()
        var text = ""
        text.reserveCapacity(10)
        for _ in 0..<10 {
            text.append(Self.alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return JobID(text)
    }

    public static func random() -> JobID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static let alphabet: [Character] = Array("abcdefghjkmnpqrstvwxyz0123456789")

    /// True for strings that could be a job id or a prefix of one: the id alphabet only, 1 to 64 characters.
    public static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 64 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Node ids name hosts: 1 to 63 characters of letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    public static func isValid(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 63, first.isASCII, first.isLetter || first.isNumber else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

/// One attempt of one job on one node: `<job>.<attempt>`, so an allocation id names its job and its attempt.
/// A gang job's attempt has one allocation per rank: rank 0 keeps the plain form, rank r > 0 is
/// `<job>.<attempt>.<r>` (job ids have no dots, so the forms cannot be confused).
public struct AllocationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let job: JobID
    public let attempt: Int
    public let rank: Int
    public init(job: JobID, attempt: Int, rank: Int = 0) {
        self.job = job
        self.attempt = attempt
        self.rank = rank
    }
    public var description: String { rank == 0 ? "\(job.rawValue).\(attempt)" : "\(job.rawValue).\(attempt).\(rank)" }
    public static func < (lhs: AllocationID, rhs: AllocationID) -> Bool {
        (lhs.job, lhs.attempt, lhs.rank) < (rhs.job, rhs.attempt, rhs.rank)
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, JobID.isValid(String(parts[0])),
            let attempt = Self.number(parts[1]), attempt > 0
        else { return nil }
        var rank = 0
        if parts.count == 3 {
            guard let parsed = Self.number(parts[2]), parsed > 0 else { return nil }
            rank = parsed
        }
        self.init(job: JobID(String(parts[0])), attempt: attempt, rank: rank)
    }

    /// A canonical decimal (no sign, no leading zero), at most 9 digits.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(text), String(value) == text
        else { return nil }
        return value
    }
}

/// The address other nodes reach a node at (agent.toml `address`): a host name, an IPv4 or an IPv6 address.
public enum NodeAddress {
    /// 1-253 characters of letters, digits, `-`, `.`, `:` and `_`: nothing a shell, a URL or a hostfile line
    /// would read as anything else.
    public static func isValid(_ text: String) -> Bool {
        (1...253).contains(text.utf8.count)
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.:_".contains($0)) }
    }
}

/// The name of a Unix account a job runs as.
public enum UnixAccountName {
    /// POSIX's portable user names: letters, digits, `.`, `_`, `-`, not starting with `-` or `.`, at most 32
    /// bytes. No path, shell or NSS-query characters get through.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), bytes[0] != UInt8(ascii: "-"), bytes[0] != UInt8(ascii: ".") else {
            return false
        }
        return bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    public static let rule = "1-32 letters, digits, '.', '_' or '-', not starting with '-' or '.'"
}
