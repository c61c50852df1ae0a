import CLinuxShims
import Glibc
import Synchronization
import Testing

@testable import LinuxSystem

/// `Threads.run`'s pool: a burst of blocking calls waits its turn on at most `limit` threads, in order, and
/// every call runs (a fleet simulation's burst of 10,000 requests used to make 10,000 threads).
@Suite struct ThreadPoolTests {
    final class Counters: Sendable {
        let now = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let order = Mutex<[Int]>([])
    }

    @Test func aBurstRunsOnAtMostLimitThreads() async {
        let pool = ThreadPool(limit: 4)
        let counters = Counters()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        pool.submit {
                            let running = counters.now.add(1, ordering: .relaxed).newValue
                            _ = counters.most.max(running, ordering: .relaxed)
                            usleep(5_000)
                            counters.now.subtract(1, ordering: .relaxed)
                            counters.order.withLock { $0.append(index) }
                            counters.done.add(1, ordering: .relaxed)
                            continuation.resume()
                        }
                    }
                }
            }
        }
        #expect(counters.done.load(ordering: .relaxed) == 40)
        #expect(counters.most.load(ordering: .relaxed) <= 4)
        #expect(counters.most.load(ordering: .relaxed) >= 2, "calls ran side by side")
    }

    /// An idle thread takes the next call: a burst reuses the threads of the last one instead of making new ones.
    @Test func anIdleThreadTakesTheNextCall() async {
        let pool = ThreadPool(limit: 4, idleTimeout: .seconds(300))  // longer than a loaded test run can stall
        func thread() async -> Int32 {
            await withCheckedContinuation { continuation in
                pool.submit { continuation.resume(returning: clinux_gettid()) }
            }
        }
        let first = await thread()
        // The call's thread answers before it is idle again: wait until it waits for the next call.
        for _ in 0..<3000 where pool.idleThreads == 0 { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(pool.idleThreads == 1)
        let second = await thread()
        #expect(first == second)
        #expect(first != clinux_gettid())
    }

    @Test func runReturnsTheResult() async {
        #expect(await Threads.run { 6 * 7 } == 42)
        #expect(await Threads.runDedicated(name: "answer") { 6 * 7 } == 42)
    }
}
