import ClusterWire
import CorralSupport
import Foundation
import Testing

@testable import CLIKit

/// sbatch's parser and option mapping on a corpus of scripts shaped like real ones (Fixtures/sbatch, 44 of
/// them: arrays, multi-node torchrun, dependencies, submitit's, Snakemake's and Nextflow's, and hostile or
/// malformed ones). Each file says what it must map to in `# expect KEY: VALUE` lines (the README lists the keys).
@Suite struct SbatchCorpusTests {
    static let directory: String = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("Fixtures missing from the test bundle")
        }
        return url.path + "/sbatch"
    }()

    static let files: [String] = Files.list(directory).filter { $0.hasSuffix(".sbatch") }.sorted()

    static let origin = SbatchJob.Origin(
        cwd: "/home/alice/project",
        host: "login1",
        environment: ["HOME": "/home/alice", "PATH": "/usr/bin:/bin", "CORRAL_TOKEN": "secret", "SHLVL": "2"]
    )

    @Test func theCorpusHasItsScripts() {
        #expect(Self.files.count >= 40)
    }

    @Test(arguments: files) func aScriptMapsAsItsExpectationsSay(_ file: String) throws {
        let script = try Files.read(Self.directory + "/" + file, limit: 1 << 20)
        var expected: [(key: String, value: String)] = []
        for line in script.split(whereSeparator: \.isNewline) where line.hasPrefix("# expect ") {
            let body = line.dropFirst("# expect ".count)
            guard let colon = body.firstIndex(of: ":") else { continue }
            expected.append(
                (String(body[..<colon]), String(body[body.index(after: colon)...]).trimmingWhitespace())
            )
        }
        #expect(!expected.isEmpty, "\(file) says nothing it expects")
        let arguments = expected.filter { $0.key == "args" }.flatMap { $0.value.split(separator: " ").map(String.init) }
        let outcome = Result { () throws(SlurmError) in
            try SbatchJob.make(arguments + [file], origin: Self.origin) { _ throws(SlurmError) in script }
        }
        if let failure = expected.first(where: { $0.key == "fails" }) {
            guard case .failure(let error) = outcome else {
                Issue.record("\(file): should fail with '\(failure.value)'")
                return
            }
            #expect(error.message.contains(failure.value), "\(file): \(error.message)")
            return
        }
        let job = try outcome.get()
        let request = job.request
        let env = request.env ?? [:]
        // What the controller will take: the spec validates.
        do {
            _ = try request.toSpec()
        } catch {
            Issue.record("\(file): the controller would refuse it: \(error)")
        }
        #expect(env["CORRAL_TOKEN"] == nil && env["SHLVL"] == nil, "\(file): the token or shell bookkeeping leaked")
        #expect(request.command.count >= 9 && request.command[8] == script, "\(file): the script is not the job's")
        for (key, value) in expected {
            let actual: String?
            switch key {
            case "name": actual = env["SLURM_JOB_NAME"]
            case "queue": actual = request.queue
            case "timeLimit": actual = request.timeLimit.map(String.init)
            case "nodes": actual = String(request.nodes ?? 1)
            case "gpus": actual = String(request.gpusPerNode ?? request.gpus ?? 0)
            case "gpuType": actual = request.gpuType
            case "cpus": actual = String(request.cpusPerNode ?? request.cpus ?? 1)
            case "memory": actual = (request.memoryPerNode ?? request.memory).map { String($0.bytes) }
            case "array": actual = request.array
            case "dependsOn":
                actual = request.dependsOn?.map { SlurmJobID.number(of: $0) }.joined(separator: ",")
            case "output": actual = request.command[4]
            case "error": actual = request.command[5]
            case "cwd":
                actual = request.cwd.map {
                    $0.hasPrefix(Self.origin.cwd + "/") ? String($0.dropFirst(Self.origin.cwd.count + 1)) : $0
                }
            case "checkpointSignal": actual = request.checkpointSignal
            case "exportNone": actual = String(env["HOME"] == nil && env["PATH"] == nil)
            case "env":
                let name = String(value.prefix { $0 != "=" })
                actual = env[name].map { "\(name)=\($0)" }
            case "warning":
                #expect(
                    job.warnings.contains { $0.contains(value) },
                    "\(file): no warning about \(value): \(job.warnings)"
                )
                continue
            case "args": continue
            default:
                Issue.record("\(file): unknown expectation \(key)")
                continue
            }
            #expect(actual == value, "\(file): \(key) is \(actual ?? "nil"), expected \(value)")
        }
    }
}
