import CorralSupport
import Glibc

/// `corral-agent service install|uninstall|status`: a systemd unit that runs the agent and restarts it on
/// failure. `--dry-run` prints what would be written or run.
enum AgentService {
    static let unitPath = "/etc/systemd/system/corral-agent.service"

    static func unit(binary: String, configPath: String) -> String {
        """
        [Unit]
        Description=Corral agent (runs GPU jobs for the Corral controller)
        After=network-online.target
        Wants=network-online.target

        [Service]
        ExecStart=\(binary) start --config \(configPath)
        Restart=on-failure
        RestartSec=5
        # Jobs run in their own sessions; let them finish their SIGTERM grace when the agent stops.
        KillMode=process
        # The agent makes its jobs' cgroups below its own (cgroup v2 delegation).
        Delegate=yes
        TimeoutStopSec=30
        LimitNOFILE=65536

        [Install]
        WantedBy=multi-user.target

        """
    }

    static func run(_ action: String, configPath: String, dryRun: Bool) -> Int32 {
        let binary = Agent.executable
        switch action {
        case "install":
            let text = unit(binary: binary, configPath: configPath)
            if dryRun {
                FileHandleOutput.stdout(
                    "# would write \(unitPath):\n\(text)# then: systemctl daemon-reload && systemctl enable --now corral-agent\n"
                )
                return 0
            }
            do {
                try Files.writeAtomically(unitPath, text, mode: 0o644)
            } catch {
                FileHandleOutput.stderr("corral-agent: \(error) (run as root, or use --dry-run)\n")
                return 1
            }
            return shell("systemctl daemon-reload && systemctl enable --now corral-agent")
        case "uninstall":
            if dryRun {
                FileHandleOutput.stdout(
                    "# would run: systemctl disable --now corral-agent; rm \(unitPath); systemctl daemon-reload\n"
                )
                return 0
            }
            let status = shell("systemctl disable --now corral-agent")
            unlink(unitPath)
            _ = shell("systemctl daemon-reload")
            return status
        default:
            if dryRun {
                FileHandleOutput.stdout("# would run: systemctl status corral-agent\n")
                return 0
            }
            return shell("systemctl status corral-agent --no-pager")
        }
    }

    static func shell(_ command: String) -> Int32 {
        let status = system(command)
        return status == 0 ? 0 : 1
    }
}
