import CorralSupport
import Glibc
import LinuxSystem

/// The floor under the drain (`jobs_executed`): what one trivial job costs the machine when nothing but the job
/// is done, started the way a supervisor starts one (`Processes.spawn`: fork, a session of its own, output
/// appended to a log file made for it, exec of `/bin/true`), in cgroups of its own made before and removed
/// after (`--cgroup-parents`: one directory per hierarchy the agent's jobs use, a v2 one, or on a hybrid host
/// the unified one and v1 cpu, memory and devices; as root; no limits are written; a v2 parent hands its jobs the
/// cpu and memory controllers, as the agent's does), and reaped. No supervisor, agent, controller or HTTP: set
/// against the drain's CPU per job, it says how much of that cost any design of the rest must pay.
/// One job at a time; the figure is the whole machine's busy CPU time per job (/proc/stat), so it counts the
/// kernel's work for the child too, wherever it ran.
public enum SpawnFloorBench {
    public static func run(jobs: Int, runs: Int, directory: String, cgroupParents: [String]) throws -> Figure {
        let executable = "/bin/true"
        guard access(executable, X_OK) == 0 else { throw BenchError("\(executable) is not there to run") }
        try Files.makeDirectories(directory, mode: 0o700)
        defer { for parent in cgroupParents { rmdir(parent) } }
        for parent in cgroupParents {
            guard mkdir(parent, 0o755) == 0 || errno == EEXIST else {
                throw BenchError("cannot make the cgroup \(parent): \(String(cString: strerror(errno)))")
            }
            delegateControllers(parent)
        }
        var samples: [Double] = []
        var rates: [Double] = []
        let clock = ContinuousClock()
        for run in 0..<max(1, runs) {
            let start = clock.now
            guard let busy = ProcStat.machineBusySeconds() else { throw BenchError("cannot read /proc/stat") }
            for index in 0..<max(1, jobs) {
                let cgroups = cgroupParents.map { "\($0)/j\(index)" }
                try job(executable, log: "\(directory)/\(run)-\(index).log", cgroups: cgroups)
            }
            guard let after = ProcStat.machineBusySeconds() else { throw BenchError("cannot read /proc/stat") }
            samples.append((after - busy) * 1_000_000 / Double(max(1, jobs)))
            rates.append(Double(max(1, jobs)) / (clock.now - start).seconds)
        }
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let perJob = Stats(samples).median
        return Figure(
            name: "spawn_floor",
            unit: "us CPU/job",
            samples: samples.map { rounded($0, 1) },
            notes: "\(jobs) `true` jobs one at a time as a supervisor spawns them (session, log file"
                + (cgroupParents.isEmpty ? "" : ", \(cgroupParents.count) cgroup(s) made and removed")
                + "), nothing else: the whole machine's CPU per job",
            extra: [
                "jobs_per_s_one_at_a_time": rounded(Stats(rates).median, 1),
                // Busy time comes in clock ticks: a run too short to span one says nothing.
                "ceiling_jobs_per_s_all_cores": perJob > 0 ? rounded(cores * 1_000_000 / perJob, 1) : 0,
            ]
        )
    }

    /// On cgroup v2, the job's cgroups get the cpu and memory controllers, as the agent's jobs do
    /// (`Containment`): each that the parent has is enabled for its children. Where it cannot be, the jobs go
    /// without, as they would under an agent that could not either.
    private static func delegateControllers(_ parent: String) {
        guard let available = try? Files.read(parent + "/cgroup.controllers", limit: 4096) else { return }
        let wanted = available.split(whereSeparator: \.isWhitespace).filter { $0 == "cpu" || $0 == "memory" }
        for controller in wanted {
            try? FileText.write("+\(controller)", to: parent + "/cgroup.subtree_control")
        }
    }

    private static func job(_ executable: String, log path: String, cgroups: [String]) throws {
        let log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard log >= 0 else { throw BenchError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(log) }
        defer { for cgroup in cgroups { rmdir(cgroup) } }
        for cgroup in cgroups where mkdir(cgroup, 0o755) != 0 {
            throw BenchError("cannot make the cgroup \(cgroup): \(String(cString: strerror(errno)))")
        }
        var spawn = JobSpawn(executable: executable, arguments: ["true"], environment: ["PATH": "/usr/bin:/bin"])
        spawn.workingDirectory = "/"
        spawn.output = log
        spawn.cgroupProcs = cgroups.map { $0 + "/cgroup.procs" }
        let pid: pid_t
        do {
            pid = try Processes.spawn(spawn)
        } catch {
            throw BenchError("cannot start \(executable): \(error.message)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
