/// Slurm's file name patterns (`--output`, `--error`): `%j` the job, `%x` its name, `%A` and `%a` the array
/// and task, `%u` the user, `%N` the host, `%n` the node's number, `%t` the task's, `%s` the step's; `%%` is
/// `%`. A letter with no value stays as written. (An sbatch job's own files are filled in on the node by
/// `SbatchPrologue`, in shell, with the same letters.)
enum SlurmPattern {
    static func expand(_ pattern: String, _ values: [Character: String]) -> String {
        var text = ""
        var characters = Array(pattern)[...]
        while let character = characters.popFirst() {
            guard character == "%", let letter = characters.popFirst() else {
                text.append(character)
                continue
            }
            if letter == "%" {
                text.append("%")
            } else if let value = values[letter] {
                text += value
            } else {
                text += "%" + String(letter)
            }
        }
        return text
    }
}
