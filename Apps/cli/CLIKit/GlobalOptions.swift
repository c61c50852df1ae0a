import CorralSupport

/// Options every command takes, wherever they stand (before the job's command for `submit` and `run`).
public struct GlobalOptions: Sendable, Equatable {
    public var endpoint: String?
    public var token: String?
    public var json = false

    /// The global options for `ArgumentReader`: switches, and options that take a value.
    static let switches = ["--json"]
    static let options = ["--endpoint", "--token"]

    public init() {}

    /// From the globals a reader collected.
    init(_ values: [String: String]) {
        endpoint = values["--endpoint"]
        token = values["--token"]
        json = values["--json"] != nil
    }
}
