/// Which GPUs of a node a job gets. Where the node's topology is known: the best-connected set (its weakest
/// link as strong as possible, then the strongest links in all), so a 2-GPU job gets two GPUs behind one PCIe
/// switch, not two on different sockets. Otherwise, and on ties: GPUs with adjacent indices, the tightest
/// run that fits, so a node's free GPUs stay in long runs for later jobs.
enum DeviceFit {
    /// Beyond this many candidate sets the search keeps to adjacent indices (8 free GPUs, any count: 70 at most).
    static let maxCandidateSets = 5000
    /// Chooses `count` GPUs among the free positions of a node.
    static func pick(from free: GPUMask, count: Int, on view: NodeView) -> GPUMask? {
        guard count > 0 else { return GPUMask() }
        guard free.count >= count else { return nil }
        let positions = free.positions
        let indices = positions.map { view.gpus[$0].index }
        guard let adjacent = pickIndices(free: indices, count: count) else { return nil }
        let chosen = view.node.gpuTopology.flatMap { bestConnected(free: indices, count: count, links: $0, adjacent) }
        return view.mask(ofIndices: chosen ?? adjacent)
    }

    /// The set of `count` free GPUs whose weakest link is strongest, then whose links sum highest; `fallback`
    /// (the adjacent pick) wins ties. Nil when the topology does not cover these GPUs or there are too many
    /// sets to weigh.
    static func bestConnected(free: [Int], count: Int, links: [[String]], _ fallback: [Int]) -> [Int]? {
        guard count >= 2, free.count > count, free.allSatisfy({ $0 < links.count && links[$0].count == links.count })
        else { return nil }
        guard combinations(free.count, count) <= maxCandidateSets else { return nil }
        func score(_ set: [Int]) -> (weakest: Int, total: Int) {
            var weakest = Int.max
            var total = 0
            for a in 0..<set.count {
                for b in (a + 1)..<set.count {
                    let weight = linkWeight(links[set[a]][set[b]])
                    weakest = min(weakest, weight)
                    total += weight
                }
            }
            return (weakest, total)
        }
        var best = (set: fallback, score: score(fallback))
        var chosen = Array(0..<count)
        while true {
            let set = chosen.map { free[$0] }
            let candidate = score(set)
            if candidate.weakest > best.score.weakest
                || (candidate.weakest == best.score.weakest && candidate.total > best.score.total)
            {
                best = (set, candidate)
            }
            // The next combination of positions in lexicographic order.
            var position = count - 1
            while position >= 0 && chosen[position] == free.count - count + position { position -= 1 }
            if position < 0 { return best.set }
            chosen[position] += 1
            for next in (position + 1)..<count { chosen[next] = chosen[next - 1] + 1 }
        }
    }

    /// NVLink first (more bonded links better), then one PCIe switch, several, a host bridge, one NUMA node,
    /// and across sockets last.
    static func linkWeight(_ code: String) -> Int {
        switch code {
        case "PIX": return 400
        case "PXB": return 300
        case "PHB": return 200
        case "NODE": return 100
        case "SYS", "SOC": return 0
        default:
            if code.hasPrefix("NV"), let links = Int(code.dropFirst(2)) { return 1000 + min(links, 100) }
            return 50
        }
    }

    static func combinations(_ n: Int, _ k: Int) -> Int {
        var result = 1
        for i in 0..<min(k, n - k) {
            result = result * (n - i) / (i + 1)
            if result > maxCandidateSets { return result }
        }
        return result
    }

    /// Among ascending free indices: the shortest run of adjacent indices at least `count` long (the lowest
    /// such run on ties), else the lowest free indices.
    static func pickIndices(free: [Int], count: Int) -> [Int]? {
        guard count > 0 else { return [] }
        guard free.count >= count else { return nil }
        var best: (start: Int, length: Int)?
        var runStart = 0
        for position in 0...free.count {
            let runEnds = position == free.count || (position > 0 && free[position] != free[position - 1] + 1)
            guard runEnds else { continue }
            let length = position - runStart
            if length >= count, best == nil || length < best!.length { best = (runStart, length) }
            runStart = position
        }
        if let best { return Array(free[best.start..<(best.start + count)]) }
        return Array(free.prefix(count))
    }
}
