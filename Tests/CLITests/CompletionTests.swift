import Foundation
import Testing

@testable import CLIKit

/// The completion scripts: every flag they offer is one a parser reads, and the bash script, run by the real
/// bash, completes commands, a command's own flags, and job arguments from the listing `ls` leaves.
@Suite struct CompletionTests {
    @Test func everyOfferedFlagIsOneTheParsersRead() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Apps/cli/CLIKit")
        var sources = ""
        for path in FileManager.default.subpaths(atPath: directory.path) ?? [] where path.hasSuffix(".swift") {
            guard !path.hasSuffix("Completion.swift") else { continue }
            sources += try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
        }
        for (command, words) in Completion.words {
            #expect(Completion.commands.contains(command), "\(command)")
            for word in words {
                #expect(sources.contains("\"\(word)\""), "corral \(command) offers \(word), which no parser reads")
            }
        }
    }

    func complete(_ words: [String], home: String) throws -> [String] {
        let script = Completion.script(for: "bash")
        let line = words.map { "'\($0)'" }.joined(separator: " ")
        let program = """
            \(script)
            COMP_WORDS=(\(line)); COMP_CWORD=\(words.count - 1); _corral; printf '%s\\n' "${COMPREPLY[@]}"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", program]
        process.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
    }

    @Test func bashCompletesCommandsFlagsAndRecentJobs() throws {
        let home = NSTemporaryDirectory() + "completion-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home + "/.corral", withIntermediateDirectories: true)
        try "1800000000000\nk3xq9mz2ab\ttrain\nmz2abk3xq9\n".write(
            toFile: home + "/.corral/last-listing",
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(atPath: home) }
        #expect(try complete(["corral", "sub"], home: home) == ["submit"])
        #expect(
            try complete(["corral", "submit", "--gpu"], home: home) == [
                "--gpu-mem", "--gpu-type", "--gpus", "--gpus-per-node",
            ]
        )
        #expect(try complete(["corral", "cancel", ""], home: home).contains("k3xq9mz2ab"))
        #expect(try complete(["corral", "cancel", "tr"], home: home) == ["train"])
        #expect(
            try complete(["corral", "cancel", "--"], home: home) == [
                "--endpoint", "--help", "--json", "--token", "--yes",
            ]
        )
        #expect(try complete(["corral", "usage", "--s"], home: home) == ["--since"])
        #expect(
            try complete(["corral", "slurm", "s"], home: home) == [
                "sacct", "sbatch", "scancel", "scontrol", "sinfo", "squeue", "srun",
            ]
        )
        #expect(try complete(["corral", "whoami", "--"], home: home) == ["--endpoint", "--help", "--json", "--token"])
        // No recent jobs: nothing but flags, no error.
        try FileManager.default.removeItem(atPath: home + "/.corral/last-listing")
        #expect(try complete(["corral", "show", ""], home: home) == ["--endpoint", "--help", "--json", "--token"])
    }

    @Test func zshAndFishOfferTheSameWords() {
        let zsh = Completion.script(for: "zsh")
        let fish = Completion.script(for: "fish")
        #expect(zsh.contains("usage) compadd -- --since --by --user --json --endpoint --token --help;;"))
        #expect(fish.contains("complete -c corral -f -n '__fish_seen_subcommand_from logs' -l follow"))
        #expect(fish.contains("__fish_seen_subcommand_from show logs exec cancel wait explain"))
    }
}
