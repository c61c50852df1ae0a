import AgentKit
import CorralSupport
import Glibc
import HTTPKit

// corral-agent: parse the command line, run the command, exit with its code.
// A job's supervisor (hidden `supervise DIR`) starts before anything else, so it stays single-threaded.
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "supervise" {
    exit(AgentCommand.supervise(directory: CommandLine.arguments[2]))
}
if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "supervise-zygote" {
    exit(AgentCommand.superviseZygote())
}
HTTPKitRuntime.initialize()
let command: AgentCommand
do {
    command = try AgentCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandleOutput.stderr("corral-agent: \(error)\nrun corral-agent --help for usage\n")
    exit(2)
}
// A daemon talking through libcurl (https, a DNS name) loads it now, with one thread (curl_global_init); a
// failure shows at its first request. Plain http to an address needs none (HTTPKit's own client).
if case .start(let configPath) = command {
    _ = AgentRestart.inherited  // before the agent opens anything of its own
    // SIGHUP restarts a running agent (`corral-agent update --restart`); until its handler is set, one that
    // comes is dropped rather than ending the agent (the updater asks again).
    signal(SIGHUP, SIG_IGN)
    if AgentCommand.endpointNeedsLibcurl(configPath: configPath) { HTTPKitRuntime.loadClient() }
}
CommandMain.run { await AgentCommand.run(command, log: StderrLog(component: "agent")) }
