import ClusterWire
import CorralClient
import CorralSupport

/// `scontrol hold|release|requeue|requeuehold JOB_LIST` and `scontrol update JobId=ID TimeLimit=T Priority=N`, on
/// Corral's job control (issue 17). As Slurm, success prints nothing; a refusal names the job and exits 1.
enum SlurmControl: Equatable {
    case hold([String])
    case release([String])
    case requeue([String], hold: Bool)
    case update(String, JobUpdateRequest)

    static let verbs = ["hold", "release", "requeue", "requeuehold", "update"]

    /// The request an scontrol command line makes (its first word one of `verbs`).
    static func parse(_ arguments: [String]) throws(SlurmError) -> SlurmControl {
        guard let verb = arguments.first?.lowercased() else { throw SlurmError("usage: scontrol hold JOB_LIST") }
        let rest = Array(arguments.dropFirst())
        if verb == "update" { return try update(rest) }
        // Job lists: "1,2 3", as Slurm takes them.
        var ids: [String] = []
        for word in rest.flatMap({ $0.split(separator: ",").map(String.init) }) {
            // `scontrol hold jobid=5` is accepted too.
            let text = word.lowercased().hasPrefix("jobid=") ? String(word.dropFirst(6)) : word
            guard let id = SlurmJobID.corralID(text) else { throw SlurmError("invalid job id \(word.prefix(64))") }
            ids.append(id)
        }
        guard !ids.isEmpty else { throw SlurmError("usage: scontrol \(verb) JOB_LIST") }
        switch verb {
        case "hold": return .hold(ids)
        case "release": return .release(ids)
        case "requeue": return .requeue(ids, hold: false)
        default: return .requeue(ids, hold: true)
        }
    }

    /// `update JobId=ID [TimeLimit=T] [Priority=N]`; keys as Slurm, in any case; other keys are refused by name.
    static func update(_ words: [String]) throws(SlurmError) -> SlurmControl {
        var id: String?
        var request = JobUpdateRequest()
        for word in words {
            guard let equals = word.firstIndex(of: "=") else {
                throw SlurmError("update: expected KEY=VALUE, got '\(word.prefix(64))'")
            }
            let key = word[..<equals].lowercased()
            let value = String(word[word.index(after: equals)...])
            switch key {
            case "jobid", "job":
                guard let corral = SlurmJobID.corralID(value) else {
                    throw SlurmError("invalid job id \(value.prefix(64))")
                }
                id = corral
            case "timelimit":
                guard case .some(let seconds?) = try SlurmTime.seconds(value, option: "TimeLimit") else {
                    throw SlurmError("TimeLimit=\(value): Corral cannot remove a job's time limit, only change it")
                }
                request.timeLimit = seconds
            case "priority":
                guard let number = Int(value) else {
                    throw SlurmError("Priority=\(value.prefix(32)): expected a whole number")
                }
                request.priority = number
            default:
                throw SlurmError("update: \(key) is not supported by Corral (JobId, TimeLimit and Priority are)")
            }
        }
        guard let id else { throw SlurmError("update: JobId=ID is required") }
        guard request.timeLimit != nil || request.priority != nil else {
            throw SlurmError("update: give TimeLimit=, Priority= or both")
        }
        return .update(id, request)
    }

    /// Carries the request out, job by job; each refusal is reported and the others still go.
    func run(_ client: CorralClient) async -> Int32 {
        var failed = false
        func attempt(_ id: String, _ body: () async throws -> Void) async {
            do {
                try await body()
            } catch {
                failed = true
                let message = (error as? CorralError)?.message ?? "\(error)"
                FileHandleOutput.stderr("scontrol: error: job \(SlurmJobID.number(of: id)): \(message)\n")
            }
        }
        switch self {
        case .hold(let ids): for id in ids { await attempt(id) { _ = try await client.control(id, "hold") } }
        case .release(let ids): for id in ids { await attempt(id) { _ = try await client.control(id, "release") } }
        case .requeue(let ids, let hold):
            for id in ids { await attempt(id) { _ = try await client.control(id, "requeue", hold: hold) } }
        case .update(let id, let request):
            await attempt(id) { _ = try await client.update(id, request) }
        }
        return failed ? 1 : 0
    }
}
