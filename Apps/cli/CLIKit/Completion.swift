/// `corral completion bash|zsh|fish`: scripts that complete commands and flags.
enum Completion {
    static let commands = [
        "configure", "config", "submit", "run", "ls", "ps", "show", "logs", "exec", "cancel", "wait", "explain",
        "queues",
        "nodes", "drain", "resume", "tokens", "whoami", "usage", "slurm", "completion", "version", "help",
    ]

    static func script(for shell: String) -> String {
        let words = commands.joined(separator: " ")
        switch shell {
        case "bash":
            return """
                # corral bash completion: eval "$(corral completion bash)"
                _corral() {
                    local cur="${COMP_WORDS[COMP_CWORD]}"
                    if [ "$COMP_CWORD" -eq 1 ]; then
                        COMPREPLY=($(compgen -W "\(words)" -- "$cur"))
                    elif [[ "$cur" == -* ]]; then
                        COMPREPLY=($(compgen -W "--json --endpoint --token --help --all --state --user --queue --watch --gpus --gpu-type --gpu-mem --cpus --mem --name --env --cwd --time-limit --kill-grace --signal --retries --priority --image --label --after --wait --file --yes --reason" -- "$cur"))
                    fi
                }
                complete -F _corral corral

                """
        case "zsh":
            return """
                #compdef corral
                # corral zsh completion: eval "$(corral completion zsh)"
                _corral() {
                    if (( CURRENT == 2 )); then
                        compadd \(words)
                    else
                        _files
                    fi
                }
                compdef _corral corral

                """
        default:
            return commands.map { "complete -c corral -n '__fish_use_subcommand' -a \($0)" }.joined(separator: "\n")
                + "\ncomplete -c corral -l json -d 'machine-readable output'\n"
        }
    }
}
