public import CorralSupport

/// The `corral-controller` program, as a function of its arguments, returning the exit code.
public enum ControllerCommand {
    public static func main(_ arguments: [String], log: any LogSink) async -> Int32 {
        if arguments.first == "tls" { return TLSInit.main(Array(arguments.dropFirst())) }
        if arguments.first == "agents" { return AgentBuildCommand.main(Array(arguments.dropFirst())) }
        if arguments.first == "rotate-join-token" { return JoinTokenRotation.main(Array(arguments.dropFirst())) }
        let configuration: ControllerConfiguration
        do {
            configuration = try ControllerConfiguration.parse(arguments)
        } catch {
            if error.isHelp {
                FileHandleOutput.stdout(ControllerConfiguration.usage + "\n")
                return 0
            }
            FileHandleOutput.stderr("corral-controller: \(error.message)\n\(ControllerConfiguration.usage)\n")
            return 2
        }
        do {
            let clock = SteadyClock(base: SkewedClock.fromEnvironment())
            try await Controller(configuration: configuration, log: log, clock: clock).run()
            return 0
        } catch {
            FileHandleOutput.stderr("corral-controller: \(error)\n")
            return 1
        }
    }
}
