/// The pass's backfill reservations (`Backfill`). The first job in order that cannot start holds one (EASY
/// backfill). Under a policy with `reservationDepth` above 1, protected jobs that cannot start hold more, up to
/// that many in all, each on nodes the earlier ones do not hold (conservative backfill for the few jobs that
/// would otherwise starve). A job placed now must leave every one of them whole.
extension Planner {
    /// Whether a job that cannot start gets a reservation now.
    func mayReserve(_ job: JobID) -> Bool {
        guard reservations.count < policy.reservationDepth, !holdsReservation(job) else { return false }
        return reservations.isEmpty || protectedJobs.contains(job)
    }

    func holdsReservation(_ job: JobID) -> Bool {
        reservations.contains { $0.job == job }
    }

    /// Whether the node is held by the reservation of a job other than `job`.
    func reserved(_ ordinal: Int, forOtherThan job: JobID? = nil) -> Bool {
        reservations.contains { $0.job != job && $0.reserves(ordinal) }
    }

    /// Whether a job placed now on this node, holding these GPUs until `end`, keeps every other job's
    /// reservation whole.
    func reservationsAllow(
        _ ordinal: Int,
        gpus: GPUMask,
        resources: Resources,
        end: Timestamp,
        except job: JobID? = nil
    ) -> Bool {
        reservations.allSatisfy { $0.job == job || $0.allows(ordinal, gpus: gpus, resources: resources, end: end) }
    }

    /// Gives the job (a gang when `ranks` > 1) a reservation when the policy allows one more, on nodes no
    /// earlier reservation holds.
    mutating func reserve(_ job: JobID, request: Resources, ranks: Int = 1, classIndex: Int) {
        guard mayReserve(job) else { return }
        var held = Set<Int>()
        for reservation in reservations { held.formUnion(reservation.holds.keys) }
        let found = Backfill.reserveGang(
            job: job,
            request: request,
            nodes: ranks,
            index: indexes[classIndex],
            free: free,
            releases: releases,
            now: now,
            excluding: held
        )
        if let found { reservations.append(found) }
    }

    /// The reservations as the schedule reports them.
    func scheduledReservations() -> [Schedule.Reservation] {
        reservations.map { reservation in
            Schedule.Reservation(
                job: reservation.job,
                node: views[reservation.ordinal].id,
                start: reservation.start,
                nodes: reservation.holds.keys.sorted().map { views[$0].id }
            )
        }
    }
}
