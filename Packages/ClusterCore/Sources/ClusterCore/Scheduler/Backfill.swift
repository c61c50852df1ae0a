/// Resources an allocation gives back when it ends (at the latest, by its time limit).
struct Release {
    var gpus: GPUMask
    var cpus: Int
    var memory: Int64
    var end: Timestamp
}

/// EASY backfill: the first job in order that cannot start gets a reservation on the node where it can
/// start soonest (a gang: on the nodes where its ranks can start soonest, at the latest of those moments),
/// judged by the expected ends of what runs there. Later jobs may start now if they leave the reservation
/// intact: they run elsewhere, end by its start, or leave enough of each reserved node for it.
struct ActiveReservation {
    /// What will be free on one reserved node at `start` (GPUs of the reserved job's type only), less what
    /// jobs backfilled onto the node past `start` take.
    struct Hold {
        var gpusAtStart: GPUMask
        var cpusAtStart: Int
        var memoryAtStart: Int64
    }

    let job: JobID
    let start: Timestamp
    /// What the job needs on each reserved node.
    let need: Resources
    /// By node ordinal: one node for a one-node job, one per rank for a gang.
    var holds: [Int: Hold]

    /// The first reserved node.
    var ordinal: Int { holds.keys.min() ?? 0 }

    func reserves(_ ordinal: Int) -> Bool { holds[ordinal] != nil }

    /// Whether a job placed now on this node, holding these GPUs until `end`, keeps the reservation whole.
    func allows(_ ordinal: Int, gpus: GPUMask, resources: Resources, end: Timestamp) -> Bool {
        guard let hold = holds[ordinal], end > start else { return true }
        return hold.gpusAtStart.subtracting(gpus).count >= need.gpus && hold.cpusAtStart - resources.cpus >= need.cpus
            && hold.memoryAtStart - resources.memory >= need.memory
    }

    /// Records a job placed on a reserved node.
    mutating func take(_ ordinal: Int, gpus: GPUMask, resources: Resources, end: Timestamp) {
        guard end > start, var hold = holds[ordinal] else { return }
        hold.gpusAtStart = hold.gpusAtStart.subtracting(gpus)
        hold.cpusAtStart -= resources.cpus
        hold.memoryAtStart -= resources.memory
        holds[ordinal] = hold
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
            // An overdue end counts as now (it is about to end, not gone): kept ends are not clamped beforehand
            // (HeldLedger). Clamping keeps the order, so the sort above stands.
            let moment = max(sorted[position].end, now)
            // Everything ending at the same moment frees at once.
            while position < sorted.count && max(sorted[position].end, now) == moment {
                gpus = gpus.union(sorted[position].gpus.intersection(usable))
                cpus += sorted[position].cpus
                memory += sorted[position].memory
                position += 1
            }
            if fits() { return (moment, gpus, cpus, memory) }
        }
        return nil
    }

    /// The reservation for a job that cannot start now: the node of its class where it starts soonest
    /// (ties by node order), or nil when no node frees enough.

    /// The reservation for a job of `nodes` ranks (1 for a one-node job): the nodes where a rank starts
    /// soonest (ties by node order), all held from the latest of their moments; nil when too few nodes ever free
    /// enough. Nodes in `excluding` (held by earlier reservations) are not considered.
    static func reserveGang(
        job: JobID,
        request: Resources,
        nodes: Int,
        index: FitIndex,
        free: FreeState,
        releases: [[Release]],
        now: Timestamp,
        excluding: Set<Int> = []
    ) -> ActiveReservation? {
        var found: [(start: Timestamp, ordinal: Int, hold: ActiveReservation.Hold)] = []
        for ordinal in index.eligible.indices where index.eligible[ordinal] && !excluding.contains(ordinal) {
            guard
                let earliest = earliestStart(
                    request,
                    usable: index.usable[ordinal],
                    free: free[ordinal],
                    releases: releases[ordinal],
                    now: now
                )
            else { continue }
            let hold = ActiveReservation.Hold(
                gpusAtStart: earliest.gpus,
                cpusAtStart: earliest.cpus,
                memoryAtStart: earliest.memory
            )
            found.append((earliest.start, ordinal, hold))
        }
        guard found.count >= nodes, nodes > 0 else { return nil }
        // One node (the usual job): the soonest, without sorting every candidate (a pass over 1,000 nodes spent
        // 8 % of its time in that sort).
        if nodes == 1, let soonest = found.min(by: { ($0.start, $0.ordinal) < ($1.start, $1.ordinal) }) {
            return ActiveReservation(
                job: job,
                start: soonest.start,
                need: request,
                holds: [soonest.ordinal: soonest.hold]
            )
        }
        found.sort { ($0.start, $0.ordinal) < ($1.start, $1.ordinal) }
        let chosen = found.prefix(nodes)
        var holds: [Int: ActiveReservation.Hold] = [:]
        for entry in chosen { holds[entry.ordinal] = entry.hold }
        return ActiveReservation(job: job, start: chosen.last!.start, need: request, holds: holds)
    }
}
