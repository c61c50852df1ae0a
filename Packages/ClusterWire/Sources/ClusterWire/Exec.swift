import FoundationEssentials

// `corral exec`: a command in a running job's context on its node, over the agent's pull channel (the node
// opens no port). The CLI creates a session, the agent gets it with its next long poll, runs it and posts the
// output back in chunks; the CLI reads the output by offset until the session is done.

/// `POST /v1/jobs/{id}/exec` (the job's owner or an admin).
public struct ExecRequest: Codable, Hashable, Sendable {
    public var command: [String]
    /// Which rank of the job (0, the only one of a one-node job).
    public var rank: Int?
    public init(command: [String], rank: Int? = nil) {
        self.command = command
        self.rank = rank
    }
}

/// The session an exec request made.
public struct ExecSessionView: Codable, Hashable, Sendable {
    public var id: String
    public var job: String
    public var node: String
    public init(id: String, job: String, node: String) {
        self.id = id
        self.job = job
        self.node = node
    }
}

/// `GET /v1/exec/{id}?offset=N`: the output from `offset` on (waiting a while for some), and how it ended.
public struct ExecOutputResponse: Codable, Hashable, Sendable {
    /// Base64 of the bytes from the requested offset.
    public var data: String
    /// The offset to ask for next.
    public var offset: Int
    public var done: Bool
    public var exitCode: Int32?
    public var signal: Int32?
    /// Why the command could not run (no longer running, cannot start it, the node did not answer).
    public var error: String?
    public init(data: String, offset: Int, done: Bool, exitCode: Int32?, signal: Int32?, error: String?) {
        self.data = data
        self.offset = offset
        self.done = done
        self.exitCode = exitCode
        self.signal = signal
        self.error = error
    }
}

/// An exec for the agent, in its long poll's answer.
public struct ExecAssignment: Codable, Hashable, Sendable {
    public var sessionId: String
    public var allocationId: String
    public var command: [String]
    public init(sessionId: String, allocationId: String, command: [String]) {
        self.sessionId = sessionId
        self.allocationId = allocationId
        self.command = command
    }
}

/// `POST /v1/agents/{node}/exec/{session}`: more output (base64), and at the end how the command ended.
public struct ExecReport: Codable, Hashable, Sendable {
    public var data: String
    public var done: Bool
    public var exitCode: Int32?
    public var signal: Int32?
    public var error: String?
    public init(data: [UInt8], done: Bool, exitCode: Int32? = nil, signal: Int32? = nil, error: String? = nil) {
        self.data = Data(data).base64EncodedString()
        self.done = done
        self.exitCode = exitCode
        self.signal = signal
        self.error = error
    }

    /// At most this much output per report.
    public static let maxChunk = 256 * 1024

    public var bytes: [UInt8]? { Data(base64Encoded: data).map { [UInt8]($0) } }
}
