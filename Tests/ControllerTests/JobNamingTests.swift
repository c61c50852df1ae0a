import ClusterCore
import Testing

@testable import ControllerKit

/// On the real state and its SQLite file: submissions get ids in the order they were made (single jobs, batches and
/// arrays alike), and a job is named by its id, a unique prefix of it or, among the jobs in memory, a unique end
/// of it (`ClusterState.resolveJob`), only among the jobs its caller may see.
@Suite struct JobNamingTests {
    static let alice = Principal(kind: .user, subject: "alice")
    static let bob = Principal(kind: .user, subject: "bob")

    @Test func idsFollowTheSubmissionsEvenWhenTheClockStepsBack() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        var ids: [JobID] = []
        for step in 0..<30 {
            if step == 10 { fixture.clock.advance(.milliseconds(3)) }
            if step == 20 { fixture.clock.advance(.seconds(-120)) }
            ids.append(try await fixture.state.submit(JobSpec(command: ["true"]), user: "alice").id)
        }
        let array = try await fixture.state.submitArray(
            JobSpec(command: ["true"]),
            ArraySpec(indices: [0, 1], limit: nil),
            user: "alice",
            unixUser: nil
        )
        ids.append(array)
        let batch = try await fixture.state.submitBatch(
            Array(repeating: ClusterState.BatchEntry(spec: JobSpec(command: ["true"]), hold: false), count: 10),
            user: Self.alice,
            unixUser: nil,
            idempotency: nil
        )
        ids += batch.map(\.id)
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.orderedNumber != nil })
        // Submissions waiting together for one group commit, in one millisecond: no two share an id.
        let state = fixture.state
        let together = try await withThrowingTaskGroup(of: JobID.self) { group in
            for _ in 0..<40 { group.addTask { try await state.submit(JobSpec(command: ["true"]), user: "bob").id } }
            return try await group.reduce(into: Set<JobID>()) { $0.insert($1) }
        }
        #expect(together.count == 40 && together.isDisjoint(with: ids))
        #expect(together.allSatisfy { $0 > ids.last! })
    }

    @Test func aJobIsNamedByItsIDAPrefixOrAnEndOnlyAmongItsCallersJobs() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let state = fixture.state
        let first = try await state.submit(JobSpec(command: ["true"]), user: "alice").id
        let second = try await state.submit(JobSpec(command: ["true"]), user: "alice").id
        let bobs = try await state.submit(JobSpec(command: ["true"]), user: "bob").id
        // Made in one millisecond: the same first letters, different last ones.
        #expect(first.rawValue.prefix(7) == second.rawValue.prefix(7))
        #expect(try await state.resolveJob(first.rawValue, for: Self.alice).id == first)
        #expect(try await state.resolveJob(String(second.rawValue.suffix(3)), for: Self.alice).id == second)
        // A prefix shared by both is ambiguous, and names both.
        await #expect {
            try await state.resolveJob(String(first.rawValue.prefix(7)), for: Self.alice)
        } throws: { error in
            guard case ClusterError.ambiguousJob(_, let matches) = error else { return false }
            return Set(matches) == [first, second]
        }
        // Bob's job is not Alice's to find, by its end either; an admin finds it.
        await #expect(throws: ClusterError.self) {
            try await state.resolveJob(String(bobs.rawValue.suffix(4)), for: Self.alice)
        }
        #expect(try await state.resolveJob(String(bobs.rawValue.suffix(4)), for: Self.bob).id == bobs)
        let admin = Principal(kind: .admin, subject: "admin")
        #expect(try await state.resolveJob(String(bobs.rawValue.suffix(4)), for: admin).id == bobs)
        // Too short, not of the alphabet, or matching nothing: not found.
        for text in ["ab", String(first.rawValue.suffix(2)), "zzzzzzzzzzzzzzzz", "!!!", ""] {
            await #expect(throws: ClusterError.self) { try await state.resolveJob(text, for: Self.alice) }
        }
    }

    /// The index of ends follows the jobs in memory: a job that leaves it (the finished window) is no longer found
    /// by its end, but still by its id and a prefix (from SQLite), and the index holds exactly the jobs in memory.
    @Test func anEndIsLookedForAmongTheJobsInMemoryOnly() async throws {
        let fixture = try await APIFixture.make(finishedJobsInMemory: 2)
        defer { fixture.remove() }
        let state = fixture.state
        var ids: [JobID] = []
        for _ in 0..<6 { ids.append(try await state.submit(JobSpec(command: ["true"]), user: "alice").id) }
        let admin = Principal(kind: .admin, subject: "admin")
        for id in ids.prefix(4) { _ = try await state.cancel(id, by: admin) }
        // Canceled while queued: finished, nothing live. The two oldest leave memory, the window keeps two.
        #expect(await state.jobs.count == 4)
        #expect(await state.jobEnds.count == 4)
        for (index, id) in ids.enumerated() {
            let end = String(id.rawValue.suffix(4))
            if index < 2 {
                await #expect(throws: ClusterError.self) { try await state.resolveJob(end, for: Self.alice) }
                #expect(try await state.resolveJob(id.rawValue, for: Self.alice).id == id)
            } else {
                #expect(try await state.resolveJob(end, for: Self.alice).id == id)
            }
        }
    }
}

/// `JobEnds` alone: ids by their last three bytes, found by any end of three letters or more, gone once removed.
@Suite struct JobEndsTests {
    @Test func idsAreFoundByTheirEndsAndGoneOnceRemoved() {
        var ends = JobEnds()
        let ids = ["a0000000xyz", "b0000000xyz", "c0000001xyz", "d000000abc", "tq_12"].map(JobID.init)
        for id in ids { ends.insert(id) }
        #expect(ends.count == 5)
        #expect(ends.ids(endingWith: Array("xyz".utf8)) == Array(ids.prefix(3)))
        #expect(ends.ids(endingWith: Array("0xyz".utf8)) == Array(ids.prefix(2)))
        #expect(ends.ids(endingWith: Array("1xyz".utf8)) == [ids[2]])
        #expect(ends.ids(endingWith: Array("_12".utf8)) == [ids[4]])
        // An end is shorter than the id: the whole id is not one of its ends.
        #expect(ends.ids(endingWith: Array("a0000000xyz".utf8)).isEmpty)
        // Under three letters there is no key: nothing, rather than everything.
        #expect(ends.ids(endingWith: Array("yz".utf8)).isEmpty && ends.ids(endingWith: []).isEmpty)
        ends.remove(ids[0])
        ends.remove(ids[0])
        ends.remove(JobID("zzzzzzzzzz"))
        #expect(ends.ids(endingWith: Array("xyz".utf8)) == [ids[1], ids[2]])
        #expect(ends.count == 4)
        for id in ids { ends.remove(id) }
        #expect(ends.count == 0 && ends.ids(endingWith: Array("xyz".utf8)).isEmpty)
    }
}
