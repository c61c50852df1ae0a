import CorralSupport
import Glibc
import LinuxSystem

/// How this node contains its jobs, decided once when the agent starts: the agent's cgroup for jobs
/// (`[isolation] cgroup_parent` below the agent's own cgroup) in the hierarchy that tracks processes (v2
/// where mounted) and in those that hold the memory and CPU controllers (v2, or v1 in the hybrid layout).
/// Each job gets a cgroup of its own under it (`cgroup(for:)`).
struct Containment: Sendable, Hashable {
    let layout: CgroupLayout
    let tracking: JobCgroup.Controller?
    let memory: JobCgroup.Controller?
    let cpu: JobCgroup.Controller?
    /// v1 only, where tracking is not in v2 (whose cpu.stat counts CPU time without any controller).
    let cpuacct: String?
    /// v1's devices controller, where mounted: a second wall around the GPUs a job was not given.
    var devices: String? = nil
    /// Why jobs cannot be contained here; nil when they can.
    let problem: String?

    /// For `preflight`, the agent's log and `corral nodes`: "cgroup v2 (+ v1 memory, cpu)", "none: WHY".
    var summary: String {
        if let problem { return "none: \(problem)" }
        var missing: [String] = []
        if memory == nil { missing.append("no memory limit") }
        if cpu == nil { missing.append("no CPU limit") }
        return layout.summary + (missing.isEmpty ? "" : " (" + missing.joined(separator: ", ") + ")")
    }

    /// Makes the agent's cgroups (`parent` below its own in each hierarchy it uses) and turns on the v2
    /// controllers its jobs need on the way down.
    static func prepare(parent: String, layout: CgroupLayout = .detect()) -> Containment {
        guard getuid() == 0 else {
            return Containment(
                layout: layout,
                tracking: nil,
                memory: nil,
                cpu: nil,
                cpuacct: nil,
                problem: "the agent does not run as root"
            )
        }
        func directory(mount: String, own: String) -> String {
            (mount + (own == "/" ? "" : own) + "/" + parent)
        }
        var tracking: JobCgroup.Controller?
        if let unified = layout.unified {
            let path = directory(mount: unified, own: layout.own[""] ?? "/")
            if (try? Files.makeDirectories(path)) != nil { tracking = .init(directory: path, unified: true) }
        } else if let (name, mount) = ["freezer", "pids", "memory"].lazy.compactMap({ name in
            layout.v1[name].map { (name, $0) }
        }).first {
            let path = directory(mount: mount, own: layout.own[name] ?? "/")
            if (try? Files.makeDirectories(path)) != nil { tracking = .init(directory: path, unified: false) }
        }
        guard let tracking else {
            let problem =
                layout.unified == nil && layout.v1.isEmpty
                ? "no cgroup hierarchy is mounted" : "cannot create the agent's cgroup \(parent)"
            return Containment(layout: layout, tracking: nil, memory: nil, cpu: nil, cpuacct: nil, problem: problem)
        }
        func controller(_ name: String) -> JobCgroup.Controller? {
            guard let (mount, own, unified) = layout.hierarchy(for: name) else { return nil }
            let path = directory(mount: mount, own: own)
            guard (try? Files.makeDirectories(path)) != nil else { return nil }
            guard unified else { return .init(directory: path, unified: false) }
            // Each level from the agent's own cgroup down hands the controller to its children.
            func enable(_ level: String) -> Bool {
                (try? FileText.write("+\(name)", to: level + "/cgroup.subtree_control")) != nil
            }
            var level = mount + (own == "/" ? "" : own)
            if !enable(level) && own != "/" {
                // v2 lets a cgroup with processes (the agent, under systemd with Delegate=yes) hand no controller
                // down: its processes move to a leaf of their own first.
                let leaf = level + "/agent"
                _ = try? Files.makeDirectories(leaf)
                for pid in (FileText.read(level + "/cgroup.procs") ?? "").split(separator: "\n") {
                    try? FileText.write(String(pid), to: leaf + "/cgroup.procs")
                }
                _ = enable(level)
            }
            for segment in parent.split(separator: "/").map(String.init) {
                level += "/" + segment
                _ = enable(level)
            }
            let enabled = FileText.read(path + "/cgroup.subtree_control") ?? ""
            return enabled.split(whereSeparator: \.isWhitespace).contains { $0 == name }
                ? .init(directory: path, unified: true) : nil
        }
        var cpuacct: String?
        if !tracking.unified, let mount = layout.v1["cpuacct"] {
            let path = directory(mount: mount, own: layout.own["cpuacct"] ?? "/")
            if (try? Files.makeDirectories(path)) != nil { cpuacct = path }
        }
        var containment = Containment(
            layout: layout,
            tracking: tracking,
            memory: controller("memory"),
            cpu: controller("cpu"),
            cpuacct: cpuacct,
            problem: nil
        )
        if let mount = layout.v1["devices"] {
            let path = directory(mount: mount, own: layout.own["devices"] ?? "/")
            if (try? Files.makeDirectories(path)) != nil { containment.devices = path }
        }
        return containment
    }

    /// The cgroup of one allocation, below the agent's.
    func cgroup(for allocation: String) -> JobCgroup? {
        guard let tracking, problem == nil else { return nil }
        func below(_ controller: JobCgroup.Controller?) -> JobCgroup.Controller? {
            controller.map { .init(directory: $0.directory + "/" + allocation, unified: $0.unified) }
        }
        return JobCgroup(
            tracking: below(tracking)!,
            memory: below(memory),
            cpu: below(cpu),
            cpuacct: cpuacct.map { $0 + "/" + allocation },
            devices: devices.map { $0 + "/" + allocation }
        )
    }
}
