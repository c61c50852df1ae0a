/// Preemption (issue 15): the scheduler picked this placed job to make room for a job of a higher tier. Its
/// processes are asked to stop (SIGTERM, its kill grace, SIGKILL, as for a cancel); once they are gone it goes
/// back to QUEUED with its submit time (so its place in its queue), spending neither its own retries nor the
/// node-fault budget, and counts one more preemption. A launch its agent never had is given back at once. A
/// gang is preempted whole: every rank is stopped.
extension JobLifecycle {
    static func preempt(_ draft: inout LifecycleDraft, by preemptor: JobID) {
        let job = draft.job
        guard job.state.isPlaced, job.stopRequest == nil, let live = job.liveAttempt else { return }
        draft.job.stopRequest = StopRequest(.preempt(by: preemptor), at: draft.now)
        if live.isGang {
            draft.note("preempted by job \(preemptor): stopping its ranks")
            return stopLiveRanks(&draft)
        }
        let allocation = AllocationID(job: job.id, attempt: live.number)
        if job.state == .allocated, draft.context.allocation?.delivered != true {
            // Nothing runs yet: the resources are free at once.
            draft.effect(.release(allocation))
            let now = draft.now
            draft.editLive { $0.endedAt = now }
            return requeuePreempted(&draft, attempt: live.number, by: preemptor)
        }
        draft.note("preempted by job \(preemptor): stopping its processes")
        draft.effect(.stop(allocation))
        draft.effect(.wake(live.node))
    }

    /// The preempted attempt's processes are gone: back to the queue, at its place.
    static func requeuePreempted(_ draft: inout LifecycleDraft, attempt number: Int, by preemptor: JobID) {
        draft.edit(attempt: number) {
            $0.preemptedBy = preemptor
            $0.finalState = .queued
        }
        draft.job.preemptions += 1
        draft.job.stopRequest = nil
        draft.move(.preempted(by: preemptor))
        draft.effect(.requestPass)
    }

    /// The job's stop request is a preemption: by which job.
    static func preemptor(_ job: Job) -> JobID? {
        if case .preempt(let by)? = job.stopRequest?.reason { return by }
        return nil
    }
}
