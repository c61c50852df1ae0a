import ClusterCore
import ClusterWire
import Testing

/// Which stored change of a job posts which notification (issue 17).
@Suite struct JobNotificationTests {
    static func job(_ state: JobState, preemptions: Int = 0) -> Job {
        var job = Job(id: JobID("note000001"), spec: JobSpec(command: ["x"]), user: "alice", submittedAt: .zero)
        job.state = state
        job.preemptions = preemptions
        return job
    }

    @Test func startsEndsAndPreemptionsAndNothingElse() {
        typealias J = JobNotificationTests
        #expect(JobNotification.event(before: J.job(.starting), after: J.job(.running)) == "started")
        #expect(JobNotification.event(before: J.job(.running), after: J.job(.succeeded)) == "ended")
        #expect(JobNotification.event(before: J.job(.queued), after: J.job(.canceled)) == "ended")
        #expect(JobNotification.event(before: J.job(.running), after: J.job(.failed)) == "ended")
        #expect(JobNotification.event(before: J.job(.running), after: J.job(.queued, preemptions: 1)) == "preempted")
        // A node back within its lease is no new start; a retry, a placement, a repeat are nothing.
        #expect(JobNotification.event(before: J.job(.lost), after: J.job(.running)) == nil)
        #expect(JobNotification.event(before: J.job(.failed), after: J.job(.queued)) == nil)
        #expect(JobNotification.event(before: J.job(.queued), after: J.job(.allocated)) == nil)
        #expect(JobNotification.event(before: J.job(.running), after: J.job(.running)) == nil)
    }

    @Test func thePayloadCarriesTheJobAndNoSecret() throws {
        var job = Self.job(.failed)
        job.spec.notify = try NotifyURL.parse("https://hooks.example.com/secret")
        job.spec.env = ["TOKEN": "cru_do_not_send"]
        let body = String(
            decoding: WireJSON.encode(JobNotification(event: "ended", job: job, at: .zero)),
            as: UTF8.self
        )
        #expect(body.contains(#""event":"ended""#) && body.contains(#""id":"note000001""#))
        #expect(!body.contains("secret") && !body.contains("cru_do_not_send"))
    }
}
