/// Compares two byte strings in time that depends only on their lengths (for tokens and MACs).
/// Different lengths compare unequal at once; lengths are not secret here.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices {
        difference |= a[index] ^ b[index]
    }
    return difference == 0
}
