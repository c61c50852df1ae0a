import CorralSupport
import FoundationEssentials

/// `corral-bench SUBCOMMAND [--flag value ...]`: each figure subcommand prints one JSON line per figure.
public enum BenchCommand {
    public static let usage = """
        usage: corral-bench scheduler [--jobs 10000] [--nodes 1000] [--gpus 8] [--runs 5] [--gangs 0]
               corral-bench submit-http --endpoint URL --token T [--clients 32] [--seconds 3] [--runs 3] [--name N]
               corral-bench drain --endpoint URL --token T [--jobs 1000] [--clients 32] [--runs 3]
                                  [--controller-pid PID]
               corral-bench spawn-floor --dir DIR [--jobs 2000] [--runs 3] [--cgroup-parents DIR,DIR...]
               corral-bench fleet --endpoint URL --cluster-token T [--nodes 1000] [--interval 5] [--seconds 10]
                                  [--runs 3] [--pollers all] [--poll-wait 25] [--job-ms 200] [--prefix sim]
                                  [--controller-pid PID] [--jobs N --token T]
               corral-bench fill --endpoint URL --token T [--jobs 1000] [--clients 32]
               corral-bench seed --data-dir DIR [--jobs 1000000] [--nodes 1000]
               \(ReplayCommand.usage)
               corral-bench figure --name N --unit U [--notes TEXT] VALUE...
               corral-bench report --input FIGURES.jsonl --output FILE.json --date DATE [--mode full]

        The figures of docs/PERFORMANCE.md; scripts/bench.sh (`just bench`) drives them against real daemons.
        """

    public static func main(_ arguments: [String]) async -> Int32 {
        guard let name = arguments.first, name != "--help", name != "-h" else {
            FileHandleOutput.stdout(usage + "\n")
            return arguments.isEmpty ? 2 : 0
        }
        do {
            let output = try await run(name, Array(arguments.dropFirst()))
            FileHandleOutput.stdout(output)
            return 0
        } catch {
            FileHandleOutput.stderr("corral-bench \(name): \(error)\n")
            return 1
        }
    }

    static func run(_ name: String, _ arguments: [String]) async throws -> String {
        switch name {
        case "scheduler":
            let flags = try BenchArguments(arguments, known: ["jobs", "nodes", "gpus", "runs", "gangs", "prepared"])
            let figure = SchedulerBench.run(
                jobs: try flags.int("jobs", default: 10_000),
                nodes: try flags.int("nodes", default: 1000),
                gpus: try flags.int("gpus", default: 8),
                runs: try flags.int("runs", default: 5),
                gangs: try flags.int("gangs", default: 0),
                prepared: try flags.int("prepared", default: 1) != 0
            )
            return figure.jsonLine + "\n"
        case "submit-http":
            let flags = try BenchArguments(
                arguments,
                known: ["endpoint", "token", "clients", "seconds", "runs", "name"]
            )
            var figure = await SubmitBench.run(
                endpoint: try flags.string("endpoint"),
                token: try flags.string("token"),
                clients: try flags.int("clients", default: 32),
                seconds: try flags.double("seconds", default: 3),
                runs: try flags.int("runs", default: 3)
            )
            figure.name = try flags.string("name", default: figure.name)
            return figure.jsonLine + "\n"
        case "drain":
            let flags = try BenchArguments(
                arguments,
                known: ["endpoint", "token", "jobs", "clients", "runs", "controller-pid"]
            )
            let figure = try await DrainBench.run(
                endpoint: try flags.string("endpoint"),
                token: try flags.string("token"),
                jobs: try flags.int("jobs", default: 1000),
                clients: try flags.int("clients", default: 32),
                runs: try flags.int("runs", default: 3),
                controllerPID: try flags.optionalInt32("controller-pid")
            )
            return figure.jsonLine + "\n"
        case "spawn-floor":
            let flags = try BenchArguments(arguments, known: ["dir", "jobs", "runs", "cgroup-parents"])
            let figure = try SpawnFloorBench.run(
                jobs: try flags.int("jobs", default: 2000),
                runs: try flags.int("runs", default: 3),
                directory: try flags.string("dir"),
                cgroupParents: try flags.string("cgroup-parents", default: "").split(separator: ",").map(String.init)
            )
            return figure.jsonLine + "\n"
        case "seed":
            let flags = try BenchArguments(arguments, known: ["data-dir", "jobs", "nodes"])
            let figure = try SeedBench.run(
                dataDir: try flags.string("data-dir"),
                jobs: try flags.int("jobs", default: 1_000_000),
                nodes: try flags.int("nodes", default: 1000)
            )
            return figure.jsonLine + "\n"
        case "fill":
            let flags = try BenchArguments(arguments, known: ["endpoint", "token", "jobs", "clients"])
            let jobs = try flags.int("jobs", default: 1000)
            let client = BenchClient.make(
                endpoint: try flags.string("endpoint"),
                token: try flags.string("token"),
                concurrency: 32
            )
            let accepted = await SubmitBench.submitBatch(
                client,
                count: jobs,
                clients: try flags.int("clients", default: 32)
            )
            guard accepted == jobs else { throw BenchError("only \(accepted) of \(jobs) submissions were accepted") }
            return "\(accepted)\n"
        case "fleet":
            return try await fleet(arguments).run().jsonLine + "\n"
        case "replay":
            return try ReplayCommand.run(arguments)
        case "figure":
            let flags = try BenchArguments(arguments, known: ["name", "unit", "notes"])
            let values = try flags.positional.map { text throws(UsageError) in
                guard let value = Double(text) else { throw UsageError("'\(text)' is not a number") }
                return value
            }
            let stats = Stats(values)
            let figure = Figure(
                name: try flags.string("name"),
                unit: try flags.string("unit"),
                samples: values,
                notes: try flags.string("notes", default: ""),
                extra: values.count >= 5 ? ["p90": rounded(stats.percentile(90))] : [:]
            )
            return figure.jsonLine + "\n"
        case "report":
            let flags = try BenchArguments(arguments, known: ["input", "output", "date", "mode"])
            let figures = try Report.figures(fromLines: try Files.read(try flags.string("input"), limit: 1 << 24))
            return try Report.write(
                figures,
                date: try flags.string("date"),
                mode: try flags.string("mode", default: "full"),
                to: try flags.string("output")
            )
        default:
            throw UsageError("unknown subcommand '\(name)'\n\(usage)")
        }
    }

    static func fleet(_ arguments: [String]) throws -> FleetSimulator {
        let flags = try BenchArguments(
            arguments,
            known: [
                "endpoint", "cluster-token", "nodes", "interval", "seconds", "runs", "pollers", "poll-wait", "job-ms",
                "prefix", "controller-pid", "jobs", "token", "gpus",
            ]
        )
        var fleet = FleetSimulator(
            endpoint: try flags.string("endpoint"),
            clusterToken: try flags.string("cluster-token"),
            nodes: try flags.int("nodes", default: 1000)
        )
        fleet.gpusPerNode = try flags.int("gpus", default: 8)
        fleet.interval = .milliseconds(Int64(try flags.double("interval", default: 5) * 1000))
        fleet.seconds = try flags.double("seconds", default: 10)
        fleet.runs = try flags.int("runs", default: 3)
        fleet.pollers = try flags.int("pollers", default: Int.max)
        fleet.pollWait = try flags.int("poll-wait", default: 25)
        fleet.jobDuration = .milliseconds(Int64(try flags.int("job-ms", default: 200)))
        fleet.prefix = try flags.string("prefix", default: "sim")
        fleet.controllerPID = try flags.optionalInt32("controller-pid")
        fleet.jobs = try flags.int("jobs", default: 0)
        fleet.userToken = try? flags.string("token")
        return fleet
    }
}
