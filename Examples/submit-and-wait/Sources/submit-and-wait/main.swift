import ClusterWire
import CorralClient
import Foundation

// Submits a command to Corral, waits for it to finish, prints its outcome and exits with its exit code.
//   CORRAL_ENDPOINT=http://127.0.0.1:8700 CORRAL_TOKEN=... submit-and-wait [--gpus N] -- COMMAND [ARGS...]
let environment = ProcessInfo.processInfo.environment
guard let endpoint = environment["CORRAL_ENDPOINT"], let token = environment["CORRAL_TOKEN"] else {
    FileHandle.standardError.write(Data("set CORRAL_ENDPOINT and CORRAL_TOKEN\n".utf8))
    exit(2)
}
var arguments = Array(CommandLine.arguments.dropFirst())
var gpus = 0
if arguments.first == "--gpus", arguments.count > 1, let count = Int(arguments[1]) {
    gpus = count
    arguments.removeFirst(2)
}
if arguments.first == "--" { arguments.removeFirst() }
guard !arguments.isEmpty else {
    FileHandle.standardError.write(Data("usage: submit-and-wait [--gpus N] -- COMMAND [ARGS...]\n".utf8))
    exit(2)
}

let corral = CorralClient(endpoint: endpoint, token: token)
var request = SubmitJobRequest(command: arguments)
request.gpus = gpus
request.cwd = FileManager.default.currentDirectoryPath
do {
    let job = try await corral.submit(request)
    print("submitted \(job.id)")
    let done = try await corral.wait(for: job.id)
    print("\(done.id) \(done.state) on \(done.node ?? "-") GPUs \(done.gpuIndices) exit \(done.exitCode.map(String.init) ?? "-")")
    exit(done.state == "SUCCEEDED" ? 0 : (done.exitCode ?? 1))
} catch {
    FileHandle.standardError.write(Data("corral: \(error)\n".utf8))
    exit(1)
}
