import CorralSupport

/// `corral version` (or `--version`); words after it are ignored.
struct VersionCommand: LocalCommand {
    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> VersionCommand { VersionCommand() }

    func runLocally() -> Int32 {
        FileHandleOutput.stdout("corral \(CLI.version)\n")
        return 0
    }
}
