/// A set of GPU positions within one node (0..<128: the node's GPUs in index order), as two words, so the
/// hot loop of a pass counts and combines free GPUs without allocating.
struct GPUMask: Hashable, Sendable {
    static let capacity = 128

    var low: UInt64 = 0
    var high: UInt64 = 0

    static let empty = GPUMask()

    /// Positions 0..<count.
    init(first count: Int) {
        let count = min(max(count, 0), Self.capacity)
        low = count >= 64 ? ~0 : (UInt64(1) << UInt64(count)) &- 1
        let rest = count - 64
        high = rest <= 0 ? 0 : (rest >= 64 ? ~0 : (UInt64(1) << UInt64(rest)) &- 1)
    }

    init() {}

    var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }
    var isEmpty: Bool { low == 0 && high == 0 }

    func contains(_ position: Int) -> Bool {
        guard position >= 0, position < Self.capacity else { return false }
        return position < 64 ? low & (1 << UInt64(position)) != 0 : high & (1 << UInt64(position - 64)) != 0
    }

    mutating func insert(_ position: Int) {
        guard position >= 0, position < Self.capacity else { return }
        if position < 64 { low |= 1 << UInt64(position) } else { high |= 1 << UInt64(position - 64) }
    }

    func union(_ other: GPUMask) -> GPUMask {
        var result = self
        result.low |= other.low
        result.high |= other.high
        return result
    }

    func intersection(_ other: GPUMask) -> GPUMask {
        var result = self
        result.low &= other.low
        result.high &= other.high
        return result
    }

    func subtracting(_ other: GPUMask) -> GPUMask {
        var result = self
        result.low &= ~other.low
        result.high &= ~other.high
        return result
    }

    /// Ascending.
    var positions: [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        var word = low
        while word != 0 {
            result.append(word.trailingZeroBitCount)
            word &= word &- 1
        }
        word = high
        while word != 0 {
            result.append(64 + word.trailingZeroBitCount)
            word &= word &- 1
        }
        return result
    }
}
