/// Which GPUs of a node a job gets. Today: GPUs with adjacent indices, the tightest run that fits, so a
/// node's free GPUs stay in long runs for later jobs. The hook for topology-aware placement (same NVLink or
/// PCIe switch, once NodeProbe reports it) is `pick(from:count:on:)`: it sees the whole node.
enum DeviceFit {
    /// Chooses `count` GPUs among the free positions of a node.
    static func pick(from free: GPUMask, count: Int, on view: NodeView) -> GPUMask? {
        guard count > 0 else { return GPUMask() }
        guard free.count >= count else { return nil }
        let positions = free.positions
        let chosen = pickIndices(free: positions.map { view.gpus[$0].index }, count: count)
        guard let chosen else { return nil }
        return view.mask(ofIndices: chosen)
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
