/// `corral completion bash|zsh|fish`: scripts that complete commands, each command's own flags (and its
/// subcommands), and job arguments from the user's recent jobs: the ids and names of the last `corral ls`
/// (`~/.corral/last-listing`; no request is made while completing).
enum Completion {
    static let commands = [
        "configure", "config", "submit", "run", "ls", "ps", "show", "logs", "exec", "cancel", "wait", "explain",
        "hold", "release", "requeue", "update", "queues",
        "nodes", "drain", "resume", "tokens", "whoami", "usage", "slurm", "completion", "version", "help",
    ]

    static let globalFlags = ["--json", "--endpoint", "--token", "--help"]

    static let jobFlags = [
        "--gpus", "--gpu-type", "--gpu-mem", "--cpus", "--mem", "--name", "--queue", "--env", "--cwd", "--time-limit",
        "--kill-grace", "--signal", "--retries", "--priority", "--image", "--label", "--after", "--nodes",
        "--gpus-per-node", "--cpus-per-node", "--mem-per-node", "--array", "--file", "--wait", "--hold", "--notify",
        "--stage", "--stage-checksum",
    ]

    /// Each command's flags and subcommands (the words after the command; `CompletionTests` checks every
    /// flag against the command's parser).
    static let words: [String: [String]] = [
        "submit": jobFlags, "run": jobFlags,
        "ls": ["--all", "--state", "--user", "--queue", "--watch", "--expand", "--array"],
        "ps": ["--all", "--state", "--user", "--queue", "--watch", "--expand", "--array"],
        "logs": ["--follow", "--tail", "--rank", "--attempt"],
        "cancel": ["--yes"], "requeue": ["--hold"], "update": ["--time-limit", "--priority"],
        "exec": ["--rank", "--tty"], "drain": ["--reason"],
        "nodes": [
            "show", "approve", "revoke", "--rejoin", "update", "--version", "--max-parallel", "--node", "--no-wait",
            "--status", "--abort",
        ],
        "tokens": ["create", "list", "revoke", "--user", "--unix-user", "--admin", "--expires"],
        "usage": ["--since", "--by", "--user"],
        "config": ["show", "set"],
        "configure": ["--endpoint", "--token", "--token-file", "--ca-file", "--no-verify"],
        "completion": ["bash", "zsh", "fish"],
        "slurm": SlurmCommand.tools,
    ]

    /// Commands whose other arguments are jobs.
    static let takesJobs = [
        "show", "logs", "exec", "cancel", "wait", "explain", "hold", "release", "requeue", "update",
    ]

    /// The shell words for one command's completions: its flags, the global ones, and for job commands the
    /// recent jobs' ids and names.
    static func cases(_ line: (String, [String]) -> String) -> String {
        words.keys.sorted().map { line($0, (words[$0] ?? []) + globalFlags) }.joined(separator: "\n")
    }

    static func script(for shell: String) -> String {
        let all = commands.joined(separator: " ")
        let jobs = takesJobs.joined(separator: "|")
        switch shell {
        case "bash":
            return """
                # corral bash completion: eval "$(corral completion bash)"
                _corral_jobs() { [ -r ~/.corral/last-listing ] && tail -n +2 ~/.corral/last-listing | tr '\\t' '\\n'; }
                _corral() {
                    local cur="${COMP_WORDS[COMP_CWORD]}" words=""
                    if [ "$COMP_CWORD" -eq 1 ]; then
                        COMPREPLY=($(compgen -W "\(all)" -- "$cur"))
                        return
                    fi
                    case "${COMP_WORDS[1]}" in
                \(cases { "        \($0)) words=\"\($1.joined(separator: " "))\";;" })
                        *) words="\(globalFlags.joined(separator: " "))";;
                    esac
                    case "${COMP_WORDS[1]}" in \(jobs)) [[ "$cur" != -* ]] && words="$words $(_corral_jobs)";; esac
                    COMPREPLY=($(compgen -W "$words" -- "$cur"))
                }
                complete -F _corral corral

                """
        case "zsh":
            return """
                #compdef corral
                # corral zsh completion: eval "$(corral completion zsh)"
                _corral() {
                    if (( CURRENT == 2 )); then
                        compadd \(all)
                        return
                    fi
                    case "${words[2]}" in
                \(cases { "        \($0)) compadd -- \($1.joined(separator: " "));;" })
                        *) compadd -- \(globalFlags.joined(separator: " "));;
                    esac
                    case "${words[2]}" in \(jobs)) [[ -r ~/.corral/last-listing ]] && compadd -- $(tail -n +2 ~/.corral/last-listing);; esac
                }
                compdef _corral corral

                """
        default:
            var lines = commands.map { "complete -c corral -f -n '__fish_use_subcommand' -a \($0)" }
            for command in words.keys.sorted() {
                for word in words[command] ?? [] {
                    let what = word.hasPrefix("--") ? "-l \(word.dropFirst(2))" : "-a \(word)"
                    lines.append("complete -c corral -f -n '__fish_seen_subcommand_from \(command)' \(what)")
                }
            }
            lines.append(
                "complete -c corral -f -n '__fish_seen_subcommand_from \(takesJobs.joined(separator: " "))' "
                    + "-a '(test -r ~/.corral/last-listing; and tail -n +2 ~/.corral/last-listing | tr \\\\t \\\\n)'"
            )
            lines.append("complete -c corral -l json -d 'machine-readable output'")
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
