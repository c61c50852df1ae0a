/// Something that happened to a job, as reported by the scheduler, the agent, the user or the lease manager.
public enum JobEvent: Hashable, Sendable {
    /// The scheduler placed the job; a launch lease starts.
    case allocate(node: NodeID, gpus: [Int])
    /// The scheduler placed a gang job: one rank on each node, all at once.
    case allocateGang([Placement])
    /// The launch lease expired, or the node was lost, before the agent accepted the launch.
    case launchAbandoned(reason: String)
    /// As `launchAbandoned`, with the infrastructure retry budget spent: the job fails instead of waiting again.
    case launchGaveUp(reason: String)
    /// The agent accepted the launch.
    case accepted
    /// The process started.
    case started(pid: Int32)
    /// The launch failed before the process ran (cwd missing, command not found, image pull failed).
    case launchFailed(message: String)
    /// The process ended.
    case exited(JobExit)
    /// The node stopped answering while the job was starting or running.
    case nodeLost(reason: String)
    /// A user (or admin) canceled the job.
    case cancel(by: String)
    /// The retry policy starts a new attempt.
    case retry(reason: String)
    /// A job in `depends_on` ended without succeeding, so this one can never run.
    case dependencyFailed(JobID, JobState)
    /// Preempted by a job of a higher tier: back to the queue, at its place.
    case preempted(by: JobID)
    /// A user or admin requeued it: back to the queue, at its place.
    case requeued(by: String)
    /// Its node came back within the lease, still running it: it runs on (Nomad's reconnect).
    case reconnected(NodeID)
}

/// How a process ended: an exit code, or the signal that killed it.
public struct JobExit: Hashable, Sendable {
    public var code: Int32?
    public var signal: Int32?
    public var message: String?
    /// True when the controller or agent ended it for exceeding its time limit.
    public var timedOut: Bool
    /// The kernel's OOM killer ended it at its memory limit (its cgroup's `oom_kill` count went up).
    public var outOfMemory: Bool

    public init(
        code: Int32? = nil,
        signal: Int32? = nil,
        message: String? = nil,
        timedOut: Bool = false,
        outOfMemory: Bool = false
    ) {
        self.code = code
        self.signal = signal
        self.message = message
        self.timedOut = timedOut
        self.outOfMemory = outOfMemory
    }

    /// Why it ended, as a word scripts can switch on: OUT_OF_MEMORY, TIMEOUT, or nil.
    public var reason: String? { outOfMemory ? "OUT_OF_MEMORY" : timedOut ? "TIMEOUT" : nil }

    public var isSuccess: Bool { code == 0 && signal == nil && !timedOut }
}

/// A transition that the state machine refuses. The controller logs it and changes nothing.
public struct TransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public let from: JobState
    public let event: String
    public init(from: JobState, event: String) {
        self.from = from
        self.event = event
    }
    public var description: String { "a job in \(from) cannot take '\(event)'" }
}

/// The outcome of an accepted event: the new state and a reason for the event log.
public struct Transition: Hashable, Sendable {
    public let from: JobState
    public let to: JobState
    public let reason: String
}

/// The job state machine of DESIGN.md as a value: `handle` returns the transition or throws, and has no side
/// effects. Whoever calls it records the event and carries out the consequences.
public struct JobStateMachine: Hashable, Sendable {
    public private(set) var state: JobState

    public init(state: JobState) { self.state = state }

    /// Every edge of the design, and no other.
    public static let edges: Set<Edge> = [
        Edge(.queued, .allocated), Edge(.allocated, .starting), Edge(.allocated, .queued),
        Edge(.starting, .running), Edge(.starting, .failed), Edge(.running, .succeeded), Edge(.running, .failed),
        Edge(.starting, .lost), Edge(.running, .lost),
        Edge(.queued, .canceled), Edge(.allocated, .canceled), Edge(.starting, .canceled), Edge(.running, .canceled),
        Edge(.lost, .queued), Edge(.failed, .queued),
        // Not in DESIGN.md's table, which is silent on dependencies that fail: a job that can never run fails
        // with the reason, as Slurm's kill_invalid_depend does, instead of waiting forever.
        Edge(.queued, .failed),
        // Not in DESIGN.md's table either: a launch no agent ever accepted, with the node-fault budget spent,
        // fails rather than bouncing between the queue and a broken node forever.
        Edge(.allocated, .failed),
        // A job canceled while its node was lost ends CANCELED once its lease has run out (it is surely gone),
        // instead of being retried.
        Edge(.lost, .canceled),
        // Preemption: a placed job stopped for a higher tier's job goes back to the queue (DESIGN.md is silent
        // on preemption; Slurm's PreemptMode=REQUEUE).
        Edge(.starting, .queued), Edge(.running, .queued),
        // A node back within its lease (a network cut longer than the node timeout, shorter than the lease)
        // still runs the job: it is RUNNING again, not stopped and retried (issue 18's network cut).
        Edge(.lost, .running),
    ]

    public struct Edge: Hashable, Sendable {
        public let from: JobState
        public let to: JobState
        public init(_ from: JobState, _ to: JobState) {
            self.from = from
            self.to = to
        }
    }

    public static func isAllowed(from: JobState, to: JobState) -> Bool { edges.contains(Edge(from, to)) }

    public mutating func handle(_ event: JobEvent) throws(TransitionError) -> Transition {
        let (sources, target, reason) = Self.rule(for: event)
        let to = target(state)
        guard sources.contains(state), Self.isAllowed(from: state, to: to) else {
            throw TransitionError(from: state, event: Self.name(of: event))
        }
        let transition = Transition(from: state, to: to, reason: reason)
        state = to
        return transition
    }

    /// For each event: the states it may arrive in, the state it leads to, and the reason to log. An event in any
    /// other state is refused even when the edge itself exists (a late "lease expired" must not requeue a FAILED
    /// job: only the retry policy does that).
    private static func rule(for event: JobEvent) -> (Set<JobState>, (JobState) -> JobState, String) {
        switch event {
        case .allocate(let node, let gpus):
            return (
                [.queued], { _ in .allocated },
                "placed on \(node) with GPUs \(gpus.map(String.init).joined(separator: ","))"
            )
        case .allocateGang(let ranks):
            let where_ = ranks.map { "\($0.node) (GPUs \($0.gpuIndices.map(String.init).joined(separator: ",")))" }
            return (
                [.queued], { _ in .allocated },
                "placed as a gang of \(ranks.count) on \(where_.joined(separator: ", "))"
            )
        case .launchAbandoned(let reason): return ([.allocated], { _ in .queued }, reason)
        case .launchGaveUp(let reason): return ([.allocated], { _ in .failed }, reason)
        case .accepted: return ([.allocated], { _ in .starting }, "agent accepted the launch")
        case .started(let pid): return ([.starting], { _ in .running }, "process started, pid \(pid)")
        case .launchFailed(let message): return ([.starting], { _ in .failed }, "launch failed: \(message)")
        case .exited(let exit): return ([.running], { _ in exit.isSuccess ? .succeeded : .failed }, describe(exit))
        case .nodeLost(let reason): return ([.starting, .running], { _ in .lost }, reason)
        case .cancel(let user):
            return ([.queued, .allocated, .starting, .running, .lost], { _ in .canceled }, "canceled by \(user)")
        case .retry(let reason): return ([.failed, .lost], { _ in .queued }, reason)
        case .dependencyFailed(let dependency, let state):
            return ([.queued], { _ in .failed }, "dependency \(dependency) ended \(state): this job can never run")
        case .preempted(let job):
            return ([.allocated, .starting, .running], { _ in .queued }, "preempted by job \(job): back in the queue")
        case .requeued(let user):
            return ([.allocated, .starting, .running], { _ in .queued }, "requeued by \(user): back in the queue")
        case .reconnected(let node):
            return ([.lost], { _ in .running }, "node \(node) came back within the lease, still running it")
        }
    }

    private static func name(of event: JobEvent) -> String {
        switch event {
        case .allocate, .allocateGang: "allocate"
        case .launchAbandoned: "launch abandoned"
        case .launchGaveUp: "launch given up"
        case .accepted: "accepted"
        case .started: "started"
        case .launchFailed: "launch failed"
        case .exited(let exit): exit.isSuccess ? "exited 0" : "exited with failure"
        case .nodeLost: "node lost"
        case .cancel: "cancel"
        case .retry: "retry"
        case .dependencyFailed: "dependency failed"
        case .preempted: "preempted"
        case .requeued: "requeued"
        case .reconnected: "reconnected"
        }
    }

    /// A line for people: "exit code 3", "killed by SIGKILL (possibly out of memory)", "time limit reached".
    public static func describe(_ exit: JobExit) -> String {
        if exit.timedOut { return "time limit reached (TIMEOUT)" }
        var text: String
        if exit.outOfMemory {
            text = "out of memory (OUT_OF_MEMORY): the kernel killed it at its memory limit"
        } else if let signal = exit.signal {
            text = "killed by \(SignalName.name(signal))"
            if signal == 9 { text += " (possibly out of memory)" }
        } else if let code = exit.code {
            text = "exit code \(code)"
            if code == 137 { text += " (SIGKILL: possibly out of memory)" }
        } else {
            text = "ended"
        }
        if let message = exit.message, !message.isEmpty { text += ": \(message)" }
        return text
    }
}

/// Linux signal numbers to names, without importing Glibc.
public enum SignalName {
    static let names: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
        9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
        18: "SIGCONT", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 28: "SIGWINCH",
    ]

    /// The number of a signal named `USR1` or `SIGUSR1`, among the names above.
    public static func number(_ name: String) -> Int32? {
        let full = name.hasPrefix("SIG") ? name : "SIG" + name
        return names.first { $0.value == full }?.key
    }
    public static func name(_ signal: Int32) -> String { names[signal] ?? "signal \(signal)" }
}
