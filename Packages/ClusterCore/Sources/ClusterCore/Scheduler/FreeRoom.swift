/// The most room any one node has free now, per resource, among the nodes a job could start on (approved, ready,
/// not drained): what the controller reads to tell whether a new job might start at once. A job asking for more
/// of any one resource than this cannot start anywhere until something is released or a node changes, so the
/// pass it asks for may wait (docs/scheduling.md, "When a pass runs"). It is a bound, not a fit: labels, GPU
/// types, reservations and the order of the queue only narrow it further.
public struct FreeRoom: Hashable, Sendable {
    public var gpus: Int
    public var cpus: Int
    public var memory: Int64

    public init(gpus: Int = 0, cpus: Int = 0, memory: Int64 = 0) {
        self.gpus = gpus
        self.cpus = cpus
        self.memory = memory
    }

    /// False proves that no node has room for `request` now; true is only a maybe.
    public func mightHold(_ request: Resources) -> Bool {
        request.gpus <= gpus && request.cpus <= cpus && request.memory <= memory
    }
}

extension PreparedNodes {
    /// The largest free GPUs (healthy ones), CPUs and memory of any one schedulable node, each on its own, as the
    /// held allocations kept here leave them; nil while they are not kept here (`trackHeld`).
    public var largestFree: FreeRoom? {
        guard let held else { return nil }
        var room = FreeRoom()
        for (ordinal, view) in views.enumerated() where Feasibility.statusProblem(view.node) == nil {
            room.gpus = max(room.gpus, view.healthy.subtracting(held.free.taken[ordinal]).count)
            room.cpus = max(room.cpus, held.free.cpus[ordinal])
            room.memory = max(room.memory, held.free.memory[ordinal])
        }
        return room
    }
}
