import CorralSupport
import Glibc

/// A new agent binary is on trial from the restart onto it until it registers (issue 20). A build that passes
/// `version` but fails once running as the agent would otherwise restart in a loop under systemd: each start
/// of a binary on trial is counted beside it (`.corral-agent.trial`), and the fourth puts the previous binary
/// back (`update --rollback`) and executes it. The old agent then reports why (`.corral-agent.rolledback`), in
/// its heartbeats' `update_error`, which fails the rollout.
enum TrialGuard {
    static let starts = 3

    static var path: String { Files.parent(of: Agent.executable) + "/.corral-agent.trial" }
    static var notePath: String { Files.parent(of: Agent.executable) + "/.corral-agent.rolledback" }

    /// Before re-executing onto a binary other than the one running.
    static func arm() {
        guard AgentRestart.inode(Agent.executable) != AgentRestart.inode("/proc/self/exe") else { return }
        try? Files.writeAtomically(path, "0\n", mode: 0o600)
    }

    /// At the top of `start`: counts this start of a binary on trial; past `starts`, puts the previous binary
    /// back and executes it (returning only when that cannot be done, to go on as this one).
    static func check(log: any LogSink) {
        guard let text = try? Files.read(path, limit: 64) else { return }
        let count = Int(text.trimmingWhitespace()) ?? 0
        guard count >= starts else {
            try? Files.writeAtomically(path, "\(count + 1)\n", mode: 0o600)
            return
        }
        unlink(path)
        do {
            try AgentUpdate.rollback(executable: Agent.executable)
        } catch {
            log.error("this agent binary did not register in \(starts) starts, and cannot be rolled back: \(error)")
            return
        }
        let note =
            "the new agent binary did not register in \(starts) starts; the previous one was put back (update --rollback)"
        try? Files.writeAtomically(notePath, note + "\n", mode: 0o600)
        log.error("\(note); executing it")
        log.error("restart failed: \(AgentRestart.reexec())")
    }

    /// Registered: the binary is no longer on trial.
    static func passed() { unlink(path) }

    /// Why the binary running now was put back, once.
    static func takeNote() -> String? {
        guard let note = try? Files.read(notePath, limit: 4096) else { return nil }
        unlink(notePath)
        return note.trimmingWhitespace()
    }
}
