import ClusterCore
import ClusterStore
import CorralSupport
import Dispatch
import Glibc
import Synchronization

/// This controller's part in the leadership on PostgreSQL (`Leadership`, docs/architecture.md "Several
/// controllers"): it stands by until the lease row is free, takes it, then renews it every third of the lease
/// and keeps `gate` up to date. Deposed (another took over: a renewal found a newer epoch), it logs so and ends
/// the process, as Kubernetes' controller-manager does: its memory is the old leader's, and a restart comes
/// back as a standby with nothing stale. A database out of reach is no deposition: the gate closes when the
/// lease runs out, and renewals go on until one reaches the database again.
///
/// libpq blocks: all of it runs on a queue of its own, never on the cooperative pool.
final class LeaderElection: Sendable {
    let gate: LeaderGate
    let settings: PGSettings
    let holder: String
    let address: String
    let lease: Duration
    let log: any LogSink
    /// How often a standby looks at the lease row.
    static let standbyPoll = Duration.milliseconds(250)
    private let queue = DispatchQueue(label: "corral-leadership")
    /// Used on `queue` only.
    private let connection = Mutex<Connection?>(nil)
    /// Set by `resign`: no renewal after it.
    private let resigned = Mutex(false)

    private final class Connection: @unchecked Sendable {
        let leadership: Leadership
        init(_ leadership: Leadership) { self.leadership = leadership }
    }

    init(gate: LeaderGate, settings: PGSettings, holder: String, address: String, lease: Duration, log: any LogSink) {
        self.gate = gate
        self.settings = settings
        self.holder = holder
        self.address = address
        self.lease = lease
        self.log = log
    }

    /// Stands by until this controller leads; its epoch.
    func lead() async -> Int64 {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.standBy()) }
        }
    }

    /// Renews the lease every third of it until the process ends or resigns; `deposed` is called (on the queue)
    /// once another leads. Each renewal is a turn of the queue of its own, so a resign can come in between.
    func keepLeading(epoch: Int64, deposed: @escaping @Sendable (String) -> Void) {
        queue.async { self.renew(epoch: epoch, deposed: deposed, failing: false) }
    }

    private func renew(epoch: Int64, deposed: @escaping @Sendable (String) -> Void, failing: Bool) {
        guard !resigned.withLock({ $0 }) else { return }
        let start = ContinuousClock.now
        var failing = failing
        do {
            let leadership = try leadership()
            guard try leadership.renew(epoch: epoch, lease: lease) else {
                let record = try? leadership.current()
                gate.end()
                deposed(
                    "leader epoch \(epoch) was taken over by \(record?.holder ?? "another controller") "
                        + "(epoch \(record.map { String($0.epoch) } ?? "?"))"
                )
                return
            }
            gate.renewed(epoch: epoch, startedAt: start, lease: lease)
            if failing { log.info("the leader's lease is renewed again (epoch \(epoch))") }
            failing = false
        } catch {
            if !failing {
                log.warning(
                    "cannot renew the leader's lease (\(error)); this controller answers nothing as the leader once "
                        + "the lease runs out, and keeps trying"
                )
            }
            failing = true
            drop()
        }
        let wait = max(.zero, ContinuousClock.now.duration(to: start + lease / 3))
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(wait.milliseconds))) { [failing] in
            self.renew(epoch: epoch, deposed: deposed, failing: failing)
        }
    }

    /// Hands the lead over at once (a controller that stops): a standby need not wait for the lease to run out.
    func resign() async {
        guard let epoch = gate.epoch else { return }
        resigned.withLock { $0 = true }
        gate.end()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                try? self.leadership().resign(epoch: epoch)
                continuation.resume()
            }
        }
    }

    private func standBy() -> Int64 {
        var reported: Int64?
        var failing = false
        while true {
            let start = ContinuousClock.now
            do {
                let leadership = try leadership()
                if let epoch = try leadership.tryAcquire(holder: holder, address: address, lease: lease) {
                    gate.renewed(epoch: epoch, startedAt: start, lease: lease)
                    log.info("this controller leads (epoch \(epoch), lease \(lease.milliseconds) ms)")
                    return epoch
                }
                let record = try leadership.current()
                gate.sawLeader(record.address)
                if reported != record.epoch {
                    log.info(
                        "standing by: \(record.holder ?? "?") leads at \(record.address ?? "?") (epoch \(record.epoch)); "
                            + "taking over if its lease runs out"
                    )
                    reported = record.epoch
                }
                failing = false
            } catch {
                if !failing { log.warning("standing by: cannot read or take the leadership row (\(error)); retrying") }
                failing = true
                drop()
            }
            Self.sleep(until: start + Self.standbyPoll)
        }
    }

    private func leadership() throws -> Leadership {
        if let connection = connection.withLock({ $0 }) { return connection.leadership }
        let leadership = try Leadership(settings)
        connection.withLock { $0 = Connection(leadership) }
        return leadership
    }

    private func drop() { connection.withLock { $0 = nil } }

    private static func sleep(until deadline: ContinuousClock.Instant) {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { return }
        usleep(UInt32(clamping: left.milliseconds * 1000))
    }
}

extension LeaderElection {
    /// Ends a controller that another has replaced as the leader: what it holds in memory is stale, and the
    /// database refuses its writes. A restart stands by behind the new leader (the process manager's job, as for
    /// Kubernetes' controller-manager).
    static func endDeposed(_ why: String, log: any LogSink) -> Never {
        log.error("no longer the leader: \(why); exiting, so that a restart stands by behind the new leader")
        _exit(75)
    }
}
