import ControllerKit
import CorralSupport
import Glibc
import HTTPKit

// corral-controller: parse the command line, then run the controller until SIGTERM/SIGINT.
HTTPKitRuntime.initialize()
// libcurl now, with one thread (curl_global_init); a failure shows at the first request, saying why.
HTTPKitRuntime.loadClient()
CommandMain.run {
    await ControllerCommand.main(Array(CommandLine.arguments.dropFirst()), log: StderrLog(component: "controller"))
}
