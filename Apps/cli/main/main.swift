import CLIKit
import FoundationEssentials
import Glibc
import HTTPKit

// corral: the user's command line.
HTTPKitRuntime.initialize()
exit(await CLI.main(CLI.arguments(CommandLine.arguments), environment: ProcessInfo.processInfo.environment))
