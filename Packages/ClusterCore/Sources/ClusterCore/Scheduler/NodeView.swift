/// A node as one pass sees it: its GPUs in index order (the first 128; no real node has more), with masks
/// precomputed so that fit checks are integer operations. A class, so that the pass's many reads of it
/// copy one reference instead of a node's strings and arrays.
final class NodeView: Sendable {
    let node: Node
    /// Sorted by index; position in this array is the GPU's position in a `GPUMask`.
    let gpus: [GPU]
    let healthy: GPUMask
    /// Lowercased names, by position, for gpu_type matching.
    let lowercasedNames: [String]

    convenience init(_ node: Node) {
        var names = NameCache()
        self.init(node, names: &names)
    }

    init(_ node: Node, names: inout NameCache) {
        self.node = node
        var seen = Set<Int>()
        let sorted = node.gpus.sorted { $0.index < $1.index }.filter { seen.insert($0.index).inserted }
        gpus = Array(sorted.prefix(GPUMask.capacity))
        var healthy = GPUMask()
        for (position, gpu) in gpus.enumerated() where gpu.healthy { healthy.insert(position) }
        self.healthy = healthy
        lowercasedNames = gpus.map { names.lowercased($0.name) }
    }

    var id: NodeID { node.id }

    /// GPUs whose name contains the wanted type (already lowercased), healthy or not.
    func matching(type lowercasedType: String?, minMemoryMiB: Int? = nil) -> GPUMask {
        var names = NameCache()
        return matching(type: lowercasedType, minMemoryMiB: minMemoryMiB, names: &names)
    }

    /// GPUs of the wanted type with at least `minMemoryMiB` each (a GPU of unknown memory does not qualify).
    func matching(type lowercasedType: String?, minMemoryMiB: Int? = nil, names: inout NameCache) -> GPUMask {
        var mask = GPUMask()
        if let lowercasedType {
            for (position, name) in lowercasedNames.enumerated() where names.contains(name, lowercasedType) {
                mask.insert(position)
            }
        } else {
            mask = GPUMask(first: gpus.count)
        }
        guard let minMemoryMiB else { return mask }
        var enough = GPUMask()
        for position in mask.positions where (gpus[position].memoryMiB ?? 0) >= minMemoryMiB { enough.insert(position) }
        return enough
    }

    /// Healthy GPUs of the wanted type and memory: the only ones such a job may get.
    func usable(type lowercasedType: String?, minMemoryMiB: Int? = nil) -> GPUMask {
        matching(type: lowercasedType, minMemoryMiB: minMemoryMiB).intersection(healthy)
    }

    /// The positions of these GPU indices (indices the node does not have are ignored).
    func mask(ofIndices indices: [Int]) -> GPUMask {
        var mask = GPUMask()
        for index in indices {
            // Usually a GPU's index is its position (nvidia-smi numbers them in order): no search then.
            if index >= 0, index < gpus.count, gpus[index].index == index {
                mask.insert(index)
            } else if let position = gpus.firstIndex(where: { $0.index == index }) {
                mask.insert(position)
            }
        }
        return mask
    }

    func indices(of mask: GPUMask) -> [Int] {
        mask.positions.map { gpus[$0].index }
    }
}

/// GPU names repeat across a cluster (a few models, thousands of GPUs): lowercase and match each once a pass.
struct NameCache {
    struct Pair: Hashable {
        var name: String
        var type: String
    }

    var lowered: [String: String] = [:]
    var matches: [Pair: Bool] = [:]

    mutating func lowercased(_ name: String) -> String {
        if let known = lowered[name] { return known }
        let result = name.lowercased()
        lowered[name] = result
        return result
    }

    mutating func contains(_ lowercasedName: String, _ lowercasedType: String) -> Bool {
        let pair = Pair(name: lowercasedName, type: lowercasedType)
        if let known = matches[pair] { return known }
        let result = lowercasedName.contains(lowercasedType)
        matches[pair] = result
        return result
    }
}
