import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport

/// Which jobs a command acts on, as Lium has them: an id or unique prefix, a name, an index from the last
/// `corral ls` (`3`), a list (`1,3,5`), a range (`2-4`), or `all`. An index is good for ten minutes after the
/// listing that showed it, and names the job that was on that row then; three or four digits that name no row
/// are an id's start or end.
enum Targets {
    static let listingLifetime: Int64 = 10 * 60 * 1000

    static var listingPath: String { Files.home() + "/.corral/last-listing" }

    /// Remembers the rows of a listing for index targets and shell completion: the time, then one
    /// `ID<tab>NAME` line per row (a line that stands for a whole array names the array; Corral's names have
    /// no tabs or spaces, and an unnamed job has none).
    static func saveListing(_ jobs: [JobView]) {
        let now = SystemClock().now().milliseconds
        let rows = jobs.map { job in
            let id = job.arraySummary?.arrayId ?? job.id
            return job.name.isEmpty ? id : "\(id)\t\(job.name)"
        }
        try? Files.writeAtomically(listingPath, "\(now)\n" + rows.joined(separator: "\n") + "\n", mode: 0o600)
    }

    /// The ids of the last listing, in order, while it is recent enough for index targets.
    static func loadListing() -> [String]? {
        guard let text = try? Files.read(listingPath, limit: 1 << 20) else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        guard let saved = lines.first.flatMap(Int64.init),
            SystemClock().now().milliseconds - saved < listingLifetime
        else { return nil }
        return lines.dropFirst().map { String($0.prefix { $0 != "\t" }) }
    }

    /// Expands index forms (`3`, `1,3,5`, `2-4`) against the last listing; other words pass through.
    static func expandIndexes(_ words: [String], listing: [String]?) throws(CLIError) -> [String] {
        var result: [String] = []
        for word in words {
            let parts = word.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let numeric = parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-") } && part.first != "-"
            }
            guard numeric && (parts.count > 1 || parts[0].count <= 4) else {
                result.append(word)
                continue
            }
            // Three or four digits alone that name no row of the listing are a start or an end of an id (ids made
            // close together differ in their last letters, digits among them): looked up as such.
            if parts.count == 1, word.count >= 3, let value = Int(word),
                value < 1 || value > (listing?.count ?? 0)
            {
                result.append(word)
                continue
            }
            guard let listing else {
                throw CLIError.failure(
                    "'\(word)' is an index, but there is no recent listing: run corral ls first (indexes last 10 minutes)"
                )
            }
            for part in parts {
                let bounds = part.split(separator: "-").compactMap { Int($0) }
                guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 >= 1 }), bounds.first! <= bounds.last!
                else { throw CLIError.usage("'\(part)' is not an index or a range such as 2-4") }
                for index in bounds.first!...bounds.last! {
                    guard index <= listing.count else {
                        throw CLIError.failure("the last listing has \(listing.count) rows: there is no row \(index)")
                    }
                    result.append(listing[index - 1])
                }
            }
        }
        return result
    }

    /// Exactly one job: an id, a prefix, a name or a row of the last listing.
    static func one(_ word: String, client: CorralClient) async throws -> JobView {
        let jobs = try await resolve([word], client: client)
        guard jobs.count == 1 else {
            throw CLIError.usage("'\(word)' names \(jobs.count) jobs; this command takes one")
        }
        return jobs[0]
    }

    /// Resolves every target to jobs: `all` is every active job you can see (or those of `states`); a word that
    /// is not an id or prefix is looked up as a name.
    static func resolve(_ words: [String], client: CorralClient, states: [String] = []) async throws -> [JobView] {
        if words == ["all"] {
            let wanted = states.isEmpty ? ["QUEUED", "ALLOCATED", "STARTING", "RUNNING"] : states
            return try await client.jobs(states: wanted, limit: 1000).jobs
        }
        var jobs: [JobView] = []
        for word in try expandIndexes(words, listing: loadListing()) {
            let found: JobView?
            do {
                found = try await client.job(word)
            } catch {
                guard error.kind == .notFound else { throw error }
                found = nil
            }
            if let found {
                jobs.append(found)
            } else {
                let named = try await client.jobs(name: word, limit: 2).jobs
                guard let job = named.first else {
                    throw CorralError(
                        kind: .notFound,
                        message: "no job '\(word.prefix(64))': run corral ls --all to see your jobs"
                    )
                }
                guard named.count == 1 else {
                    throw CLIError.failure("several jobs are named '\(word)': give an id (corral ls --all)")
                }
                jobs.append(job)
            }
        }
        var seen: Set<String> = []
        return jobs.filter { seen.insert($0.id).inserted }
    }
}
