import ClusterCore
import ClusterStore
import HTTPKit

/// A page of `GET /v1/jobs`: the database's order and filters (every job is there, finished ones out of memory
/// too), each job as `lookup` has it. The leader looks in its memory first; a standby reads each job from the
/// database (`ClusterState.anyJob` of its copy), so both list the same jobs.
enum JobListing {
    struct Query: Sendable {
        var states: Set<JobState>?
        var user: String?
        var queue: String?
        var name: String?
        var limit: Int = 100
        var cursor: JobID?
        /// One line per array, with its counts, instead of one per task.
        var collapseArrays = false
        /// Only this array's tasks.
        var array: JobID?
    }

    /// The query of a request's parameters; a bad one is a 400 naming it.
    static func query(_ request: HTTPRequest) throws -> Query {
        var query = Query()
        if let states = request.query["state"], !states.isEmpty {
            var set: Set<JobState> = []
            for name in states.split(separator: ",") {
                guard let state = JobState(rawValue: name.uppercased()) else {
                    let known = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.badRequest("unknown state '\(name.prefix(32))'; use one of \(known)", field: "state")
                }
                set.insert(state)
            }
            query.states = set
        }
        if let user = request.query["user"], !user.isEmpty { query.user = user }
        if let queue = request.query["queue"], !queue.isEmpty { query.queue = queue }
        if let name = request.query["name"], !name.isEmpty { query.name = name }
        if let limit = request.query["limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else {
                throw APIError.badRequest("must be a number from 1 to 1000", field: "limit")
            }
            query.limit = value
        }
        if let cursor = request.query["cursor"], !cursor.isEmpty { query.cursor = JobID(cursor) }
        switch request.query["collapse"] {
        case nil, "": break
        case "arrays": query.collapseArrays = true
        default: throw APIError.badRequest("must be 'arrays'", field: "collapse")
        }
        if let array = request.query["array"], !array.isEmpty { query.array = JobID(array) }
        return query
    }

    /// Newest first, at most `limit`, after `cursor`; the jobs and the cursor for the next page.
    static func page(
        _ query: Query,
        for principal: Principal,
        in database: ClusterDatabase,
        lookup: (JobID) throws -> Job?
    ) throws -> ([Job], JobID?) {
        var filter = ClusterDatabase.JobFilter()
        filter.states = query.states
        filter.user = principal.isAdmin ? query.user : principal.subject
        if let user = query.user, user != filter.user { return ([], nil) }
        filter.queue = query.queue
        filter.name = query.name
        filter.idPrefix = query.array.map { $0.rawValue + "_" }
        var result: [Job] = []
        var arraysListed = Set<JobID>()
        // An array's tasks are stored together, so its line was the previous page's last: not again.
        if query.collapseArrays, let cursor = query.cursor, let task = try lookup(cursor)?.array {
            arraysListed.insert(task.array)
        }
        var next: JobID?
        try database.forEachJobID(filter, after: query.cursor) { id in
            if result.count == query.limit {
                next = result.last?.id
                return false
            }
            // A task's id is `<array>_<index>`: a collapsed array's other tasks are passed over unread.
            if query.collapseArrays, let underscore = id.rawValue.firstIndex(of: "_"),
                arraysListed.contains(JobID(String(id.rawValue[..<underscore])))
            {
                return true
            }
            guard let job = try lookup(id) else { return true }
            if query.collapseArrays, let task = job.array { arraysListed.insert(task.array) }
            result.append(job)
            return true
        }
        return (result, next)
    }
}
