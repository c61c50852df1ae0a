extension PreparedNodes {
    /// The most room any one node has free now, per resource, among the nodes a job could start on (approved,
    /// ready, not drained): the largest free healthy GPUs, CPUs and memory, each on its own, as the held
    /// allocations kept here leave them; nil while they are not kept here (`trackHeld`). The controller reads it to
    /// tell whether a new job might start at once (`Resources.fits(in:)`: false against it proves
    /// that no node has room for the job now; true is only a maybe): one asking for more of any resource
    /// cannot start anywhere until something is released or a node changes, so the pass it asks for may wait
    /// (docs/scheduling.md, "When a pass runs"). It is a bound, not a fit: labels, GPU types, reservations and the
    /// order of the queue only narrow it further.
    public var largestFree: Resources? {
        guard let held else { return nil }
        var room = Resources()
        for (ordinal, view) in views.enumerated() where Feasibility.statusProblem(view.node) == nil {
            room.gpus = max(room.gpus, view.healthy.subtracting(held.free.taken[ordinal]).count)
            room.cpus = max(room.cpus, held.free.cpus[ordinal])
            room.memory = max(room.memory, held.free.memory[ordinal])
        }
        return room
    }
}
