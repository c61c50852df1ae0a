/// Resources an allocation gives back when it ends (at the latest, by its time limit).
struct Release {
    var gpus: GPUMask
    var cpus: Int
    var memory: Int64
    var end: Timestamp
}

/// EASY backfill: the first job in order that cannot start gets a reservation on the node where it can
/// start soonest, judged by the expected ends of what runs there. Later jobs may start now if they leave
/// the reservation intact: they run elsewhere, end by its start, or leave enough of the node for it.
struct ActiveReservation {
    let job: JobID
    let ordinal: Int
    let start: Timestamp
    let need: Resources
    /// What will be free on the node at `start` (GPUs of the reserved job's type only), less what jobs
    /// backfilled onto the node past `start` take.
    var gpusAtStart: GPUMask
    var cpusAtStart: Int
    var memoryAtStart: Int64

    /// Whether a job placed now on this node, holding these GPUs until `end`, keeps the reservation whole.
    func allows(gpus: GPUMask, resources: Resources, end: Timestamp) -> Bool {
        if end <= start { return true }
        return gpusAtStart.subtracting(gpus).count >= need.gpus && cpusAtStart - resources.cpus >= need.cpus
            && memoryAtStart - resources.memory >= need.memory
    }

    /// Records a job placed on the reserved node.
    mutating func take(gpus: GPUMask, resources: Resources, end: Timestamp) {
        guard end > start else { return }
        gpusAtStart = gpusAtStart.subtracting(gpus)
        cpusAtStart -= resources.cpus
        memoryAtStart -= resources.memory
    }
}

enum Backfill {
    /// The earliest moment the request fits on one node, given what is free now and when the rest ends.
    /// Returns the moment and what is free then (usable GPUs, CPUs, memory), or nil if it never fits.
    static func earliestStart(
        _ request: Resources,
        usable: GPUMask,
        free: FreeState.Entry,
        releases: [Release],
        now: Timestamp
    ) -> (start: Timestamp, gpus: GPUMask, cpus: Int, memory: Int64)? {
        var gpus = usable.subtracting(free.taken)
        var cpus = free.cpus
        var memory = free.memory
        func fits() -> Bool { gpus.count >= request.gpus && cpus >= request.cpus && memory >= request.memory }
        if fits() { return (now, gpus, cpus, memory) }
        let sorted = releases.sorted { $0.end < $1.end }
        var position = 0
        while position < sorted.count {
            let moment = sorted[position].end
            // Everything ending at the same moment frees at once.
            while position < sorted.count && sorted[position].end == moment {
                gpus = gpus.union(sorted[position].gpus.intersection(usable))
                cpus += sorted[position].cpus
                memory += sorted[position].memory
                position += 1
            }
            if fits() { return (max(moment, now), gpus, cpus, memory) }
        }
        return nil
    }

    /// The reservation for a job that cannot start now: the node of its class where it starts soonest
    /// (ties by node order), or nil when no node frees enough.
    static func reserve(
        job: JobID,
        request: Resources,
        index: FitIndex,
        free: FreeState,
        releases: [[Release]],
        now: Timestamp
    ) -> ActiveReservation? {
        var best: ActiveReservation?
        for ordinal in index.eligible.indices where index.eligible[ordinal] {
            guard
                let found = earliestStart(
                    request,
                    usable: index.usable[ordinal],
                    free: free[ordinal],
                    releases: releases[ordinal],
                    now: now
                )
            else { continue }
            if let current = best, current.start <= found.start { continue }
            best = ActiveReservation(
                job: job,
                ordinal: ordinal,
                start: found.start,
                need: request,
                gpusAtStart: found.gpus,
                cpusAtStart: found.cpus,
                memoryAtStart: found.memory
            )
        }
        return best
    }
}
