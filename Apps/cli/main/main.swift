import CLIKit
import FoundationEssentials
import Glibc
import HTTPKit

// corral: the user's command line.
HTTPKitRuntime.initialize()
exit(await CLI.main(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
