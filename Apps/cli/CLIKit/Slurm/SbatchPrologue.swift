/// The few lines of POSIX shell an sbatch job runs before its script, on the node, as its user:
/// `sh -c PROLOGUE sbatch OUTPUT ERROR OPEN-MODE STEP-SIGNAL SCRIPT ARGS...`. They
/// - set Slurm's variables that exist only once the job runs: `SLURM_JOB_ID` (the number `SlurmJobID` makes
///   of `CORRAL_JOB_ID`; `NUMBER_INDEX` for an array task), `SLURM_ARRAY_JOB_ID`, `SLURM_ARRAY_TASK_ID`,
///   `SLURM_PROCID` (the gang rank), `SLURM_JOB_NODELIST`, `SLURM_RESTART_COUNT`, `SLURM_JOB_USER`...;
/// - on rank 0 send stdout and stderr to `--output`/`--error` with `%j %x %A %a %u %N %%` filled in, relative to
///   the job's directory (other ranks keep Corral's log, as Slurm gives them none);
/// - ignore STEP-SIGNAL (a `--signal` without `B:`, which Slurm sends to the job's steps only: srun resets it
///   for its tasks) so the batch shell is not killed by it;
/// - write the script (kept in the job, so later edits of the file do not change it, as in Slurm) into a
///   directory of its own (mode 0700, in TMPDIR when that is a writable directory, else /tmp), open it, delete
///   it, and `exec` its `#!` interpreter on `/proc/self/fd/9`: the interpreter is the job's process, so the
///   signals Corral sends reach it, nothing is left behind, and a `noexec` /tmp does not matter.
enum SbatchPrologue {
    static let marker = "sbatch"

    static let text = """
        a=abcdefghjkmnpqrstvwxyz0123456789
        n() { v=0; s=$1; while [ -n "$s" ]; do r=${s#?}; c=${s%"$r"}; s=$r; p=${a%%"$c"*}; v=$((v*32+${#p})); done; printf '%s' $v; }
        if [ -n "${CORRAL_ARRAY_JOB_ID:-}" ]; then
        SLURM_ARRAY_JOB_ID=$(n "$CORRAL_ARRAY_JOB_ID"); SLURM_ARRAY_TASK_ID=$CORRAL_ARRAY_TASK_ID
        SLURM_ARRAY_TASK_COUNT=$CORRAL_ARRAY_TASK_COUNT; SLURM_JOB_ID=${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID
        export SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT
        else SLURM_JOB_ID=$(n "$CORRAL_JOB_ID"); fi
        SLURMD_NODENAME=$(uname -n); SLURM_JOBID=$SLURM_JOB_ID; SLURM_PROCID=${CORRAL_RANK:-0}
        SLURM_NODEID=$SLURM_PROCID; SLURM_LOCALID=0; SLURM_JOB_NODELIST=${CORRAL_NODELIST:-$SLURMD_NODENAME}
        SLURM_NODELIST=$SLURM_JOB_NODELIST; SLURM_RESTART_COUNT=$((${CORRAL_ATTEMPT:-1}-1))
        SLURM_JOB_USER=$(id -un 2>/dev/null) || SLURM_JOB_USER=${USER:-}
        export SLURMD_NODENAME SLURM_JOB_ID SLURM_JOBID SLURM_PROCID SLURM_NODEID SLURM_LOCALID SLURM_JOB_NODELIST \\
        SLURM_NODELIST SLURM_RESTART_COUNT SLURM_JOB_USER
        x() { o=; s=$1; while :; do case $s in *%*) o=$o${s%%"%"*}; s=${s#*"%"}; c=${s%"${s#?}"}; s=${s#?}
        case $c in j) o=$o$SLURM_JOB_ID;; x) o=$o$SLURM_JOB_NAME;; A) o=$o${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID};;
        a) o=$o${SLURM_ARRAY_TASK_ID:-4294967294};; u) o=$o$SLURM_JOB_USER;; N) o=$o$SLURMD_NODENAME;;
        n|t|s) o=${o}0;; %) o=$o%;; *) o=$o%$c;; esac;; *) o=$o$s; break;; esac; done; printf '%s' "$o"; }
        if [ "$SLURM_PROCID" = 0 ]; then
        out=$(x "$1"); err=$(x "$2")
        if [ "$3" = append ]; then exec >>"$out"; else exec >"$out"; fi
        if [ "$2" = "$1" ]; then exec 2>&1; elif [ "$3" = append ]; then exec 2>>"$err"; else exec 2>"$err"; fi
        fi
        t=${TMPDIR:-/tmp}; { [ -d "$t" ] && [ -w "$t" ]; } || t=/tmp
        d=$(mktemp -d "$t/slurm_script.XXXXXX") || exit 1
        printf '%s' "$5" >"$d/script" || exit 1
        IFS= read -r h <"$d/script" || [ -n "$h" ] || exit 1
        exec 9<"$d/script" && rm -rf "$d" || exit 1
        if [ -n "$4" ]; then trap '' "$4"; fi
        shift 5
        set -f
        exec ${h#??} /proc/self/fd/9 "$@"
        """

    /// The output and error patterns of a job sbatch submitted, from its command; nil for any other job.
    static func patterns(of command: [String]) -> (output: String, error: String)? {
        guard command.count >= 9, command[0] == "/bin/sh", command[1] == "-c", command[3] == marker,
            command[2] == text
        else { return nil }
        return (command[4], command[5])
    }
}
