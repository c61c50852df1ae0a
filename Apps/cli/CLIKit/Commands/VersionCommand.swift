import CorralSupport

/// `corral version` (or `--version`); words after it are ignored.
struct VersionCommand: CorralCommand {
    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> VersionCommand { VersionCommand() }

    func run(_ context: CommandContext) async throws -> Int32 { runHere() ?? 0 }

    func runHere() -> Int32? {
        FileHandleOutput.stdout("corral \(CLI.version)\n")
        return 0
    }
}
