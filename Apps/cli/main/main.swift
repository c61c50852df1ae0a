import CLIKit
import CorralSupport
import FoundationEssentials

// corral: the user's command line. What needs no controller (a usage error, help, version, completion) is done
// before Swift's concurrency runtime starts its threads (CLI.start); the rest runs on it.
Signals.ignoreSIGPIPE()  // `corral version | true` exits with its code, not by the signal
switch CLI.start(CLI.arguments(CommandLine.arguments)) {
case .done(let code):
    CommandMain.exit(code)
case .run(let invocation):
    CommandMain.run { await CLI.main(invocation, environment: ProcessInfo.processInfo.environment) }
}
