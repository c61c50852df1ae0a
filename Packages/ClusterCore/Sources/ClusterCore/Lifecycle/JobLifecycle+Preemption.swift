/// Preemption (issue 15): the scheduler picked this placed job to make room for a job of a higher tier. Its
/// processes are asked to stop (SIGTERM, its kill grace, SIGKILL, as for a cancel); once they are gone it goes
/// back to QUEUED with its submit time (so its place in its queue), spending neither its own retries nor the
/// node-fault budget, and counts one more preemption. A launch its agent never had is given back at once. A
/// gang is preempted whole: every rank is stopped.
extension JobLifecycle {
    static func preempt(_ draft: inout LifecycleDraft, by preemptor: JobID) {
        stopToRequeue(&draft, StopRequest(.preempt(by: preemptor), at: draft.now))
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
}
