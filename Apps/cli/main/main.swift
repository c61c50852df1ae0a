import CLIKit
import CorralSupport
import FoundationEssentials
import HTTPKit

// corral: the user's command line.
HTTPKitRuntime.initialize()
CommandMain.run {
    await CLI.main(CLI.arguments(CommandLine.arguments), environment: ProcessInfo.processInfo.environment)
}
