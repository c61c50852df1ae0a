import BenchKit
import Glibc
import HTTPKit

// corral-bench: the figures of `just bench` (docs/PERFORMANCE.md), one JSON line each.
HTTPKitRuntime.initialize()
exit(await BenchCommand.main(Array(CommandLine.arguments.dropFirst())))
