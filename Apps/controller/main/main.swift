import ControllerKit
import CorralSupport
import Glibc
import HTTPKit

// corral-controller: parse the command line, then run the controller until SIGTERM/SIGINT.
HTTPKitRuntime.initialize()
exit(await ControllerCommand.main(Array(CommandLine.arguments.dropFirst()), log: StderrLog(component: "controller")))
