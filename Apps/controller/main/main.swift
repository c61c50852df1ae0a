import ControllerKit
import CorralSupport
import Glibc
import HTTPKit

// corral-controller: parse the command line, then run the controller until SIGTERM/SIGINT.
HTTPKitRuntime.initialize()
// libcurl now, with one thread (curl_global_init); a failure shows at the first request, saying why.
HTTPKitRuntime.loadClient()
// OpenSSL now too: every authenticated request hashes its token, so a controller without it could not serve one.
if let why = HTTPKitRuntime.loadOpenSSL() {
    FileHandleOutput.stderr("corral-controller: \(why)\n")
    exit(1)
}
CommandMain.run {
    await ControllerCommand.main(Array(CommandLine.arguments.dropFirst()), log: StderrLog(component: "controller"))
}
