import AgentKit
import CorralSupport
import Glibc
import HTTPKit

// corral-agent: parse the command line, run the command, exit with its code.
HTTPKitRuntime.initialize()
let command: AgentCommand
do {
    command = try AgentCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandleOutput.stderr("corral-agent: \(error)\nrun corral-agent --help for usage\n")
    exit(2)
}
exit(await AgentCommand.run(command, log: StderrLog(component: "agent")))
