import Testing

@testable import CorralSupport

/// The one flag reader the four programs share: its grammar, and the usage errors it raises.
@Suite struct ArgumentReaderTests {
    /// Everything a reader returns, with each option's value taken when `valued` names it.
    static func read(
        _ arguments: [String],
        valued: Set<String> = [],
        globalSwitches: [String] = [],
        globalOptions: [String] = []
    ) throws(UsageError) -> (read: [String], globals: [String: String]) {
        var reader = ArgumentReader(arguments, globalSwitches: globalSwitches, globalOptions: globalOptions)
        var read: [String] = []
        while let argument = try reader.next() {
            switch argument {
            case .option(let name) where valued.contains(name): read.append("\(name)=\(try reader.value(for: name))")
            case .option(let name): read.append(name)
            case .positional(let word): read.append("<\(word)>")
            }
        }
        return (read, reader.globals)
    }

    static func error(_ body: () throws(UsageError) -> Void) -> UsageError? {
        do {
            try body()
            Issue.record("no usage error")
            return nil
        } catch {
            return error
        }
    }

    @Test func optionsValuesSwitchesAndWords() throws {
        let read = try Self.read(["--gpus", "2", "--name=a=b", "-f", "job", "--all"], valued: ["--gpus", "--name"])
        #expect(read.read == ["--gpus=2", "--name=a=b", "-f", "<job>", "--all"])
    }

    @Test func valuesAreTakenAsWritten() throws {
        let read = try Self.read(
            ["--priority", "-5", "--token", "-", "--after", "--", "x"],
            valued: ["--priority", "--token", "--after"]
        )
        #expect(read.read == ["--priority=-5", "--token=-", "--after=--", "<x>"])
    }

    @Test func dashDashEndsTheOptions() throws {
        let read = try Self.read(["-a", "--", "--all", "-f", "--", "x"])
        #expect(read.read == ["-a", "<--all>", "<-f>", "<-->", "<x>"])
    }

    /// A job's command never starts with a dash unless `--` comes first: `corral submit -5` is a mistake.
    @Test(arguments: ["-5", "-", "-x"])
    func everyDashWordIsAnOption(_ word: String) throws {
        #expect(try Self.read([word]).read == [word])
        #expect(try Self.read(["--", word]).read == ["<\(word)>"])
    }

    @Test func shortOptionsAreNeverSplit() throws {
        #expect(try Self.read(["-e", "A=1", "-n=3"], valued: ["-e"]).read == ["-e=A=1", "-n=3"])
    }

    @Test func restIsTheUnreadArgumentsAsWritten() throws {
        var reader = ArgumentReader(["--gpus", "1", "python", "--json", "--", "-h"], globalSwitches: ["--json"])
        #expect(try reader.next() == .option("--gpus"))
        #expect(try reader.value(for: "--gpus") == "1")
        #expect(try reader.next() == .positional("python"))
        #expect(reader.rest() == ["--json", "--", "-h"])
        #expect(reader.isAtEnd && reader.globals.isEmpty)
        #expect(try reader.next() == nil)
    }

    @Test func globalsAreTakenWhereOptionsStand() throws {
        let read = try Self.read(
            ["--json", "--endpoint", "http://a", "ls", "--token=t=1", "--all", "--", "--json"],
            globalSwitches: ["--json"],
            globalOptions: ["--endpoint", "--token"]
        )
        #expect(read.read == ["<ls>", "--all", "<--json>"])
        #expect(read.globals == ["--json": "", "--endpoint": "http://a", "--token": "t=1"])
        let last = try Self.read(["--token", "a", "--token", "b"], globalOptions: ["--token"])
        #expect(last.globals == ["--token": "b"])
    }

    @Test func nextWordReturnsTheCommandAsWritten() throws {
        var reader = ArgumentReader(["--json", "--version", "x"], globalSwitches: ["--json"])
        #expect(try reader.nextWord() == "--version")
        #expect(reader.globals == ["--json": ""])
        var dashes = ArgumentReader(["--", "ls"])
        #expect(try dashes.nextWord() == "--")
    }

    @Test func collectGlobalsTakesThemAnywhereBeforeDashDash() throws {
        var reader = ArgumentReader(
            ["ls", "--user", "--json", "--token", "t", "x", "--", "--json"],
            globalSwitches: ["--json"],
            globalOptions: ["--token"]
        )
        #expect(try reader.nextWord() == "ls")
        try reader.collectGlobals()
        #expect(reader.globals == ["--json": "", "--token": "t"])
        #expect(reader.containsOption(["--user"]))
        #expect(!reader.containsOption(["--json"]))
        #expect(reader.rest() == ["--user", "x", "--", "--json"])
    }

    @Test func typedValues() throws {
        var reader = ArgumentReader([
            "--n", "42", "--t", "2h", "--kv", "A=x=y", "--size", "8", "--kv", "EMPTY=",
        ])
        _ = try reader.next()
        #expect(try reader.integer(for: "--n", in: 0...100) == 42)
        _ = try reader.next()
        #expect(try reader.seconds(for: "--t") == 7200)
        _ = try reader.next()
        #expect(try reader.keyValue(for: "--kv") == ("A", "x=y"))
        _ = try reader.next()
        #expect(try reader.value(for: "--size", expecting: "a number") { Int($0) } == 8)
        _ = try reader.next()
        #expect(try reader.keyValue(for: "--kv") == ("EMPTY", ""))
    }

    static let mistakes: [([String], UsageError.Code, String)] = [
        (["--gpus"], .missingValue, "--gpus needs a value"),
        (["--all=yes"], .unexpectedValue, "--all takes no value"),
        (["--json=1"], .unexpectedValue, "--json takes no value"),
        (["--token"], .missingValue, "--token needs a value"),
        (["--gpus", "two"], .malformedValue, "--gpus takes a whole number from 0 to 8, got 'two'"),
        (["--gpus", "9"], .malformedValue, "--gpus takes a whole number from 0 to 8, got '9'"),
        (["--kv", "=x"], .malformedValue, "--kv takes KEY=VALUE, got '=x'"),
        (["--t", "0s"], .malformedValue, "--t takes seconds or 90s, 30m, 2h, 1d, got '0s'"),
    ]

    @Test(arguments: mistakes)
    func mistakesAreUsageErrors(_ arguments: [String], _ code: UsageError.Code, _ message: String) {
        let error = Self.error { () throws(UsageError) in
            var reader = ArgumentReader(arguments, globalSwitches: ["--json"], globalOptions: ["--token"])
            while let argument = try reader.next() {
                switch argument {
                case .option("--gpus"): _ = try reader.integer(for: "--gpus", in: 0...8)
                case .option("--kv"): _ = try reader.keyValue(for: "--kv")
                case .option("--t"): _ = try reader.seconds(for: "--t")
                default: break
                }
            }
        }
        #expect(error?.code == code)
        #expect(error?.message == message)
        #expect(error?.description == message)
    }

    @Test func namedMistakes() {
        #expect(UsageError.unknownOption("--x").message == "unknown option '--x'")
        #expect(UsageError.unknownOption("--x", for: "ls").message == "unknown option '--x' for ls")
        #expect(UsageError.unexpectedArgument("w").message == "unexpected argument 'w'")
        #expect(UsageError("usage: corral show JOB").code == .invalidUsage)
        #expect(UsageError.helpRequested.code == .helpRequested)
    }

    @Test(arguments: [
        ("3600", 3600), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86_400),
    ])
    func durations(_ text: String, _ seconds: Int) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "0", "-5", "2.5h", "h", "0s", "10w", "1 h", "99999999999999999999", "999999999999999999d"])
    func badDurations(_ text: String) {
        #expect(DurationText.seconds(text) == nil)
    }
}
