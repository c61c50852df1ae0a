import CorralSupport
import Glibc

/// Where the job records live (issue 16). Every job makes and deletes about six small files in its record;
/// on ext4, finding free inodes for them was 28 % of the machine's CPU in the real-agent drain (`perf`), and
/// the same drain ran 37 % faster with the records on a tmpfs. Records need to outlive the agent, not the
/// machine (a reboot voids them), so `records_dir = "/run/corral-agent"` loses nothing.
///
/// STATE_DIR/jobs stays the path every part uses: with `records_dir` it is a symlink to that directory. So an
/// older agent (an update rolled back) and the job supervisors, which hold their record's path, find the
/// records where they always looked. The switch happens only at a start with no records in the old place: the
/// supervisors of running jobs write to the paths they were given.
enum RecordsDirectory {
    /// Makes STATE_DIR/jobs ready: a directory, or a symlink to `records_dir` (made again after a reboot emptied
    /// /run). Returns where the records are.
    @discardableResult
    static func prepare(_ configuration: AgentConfiguration, log: any LogSink) throws -> String {
        let jobs = configuration.jobsDir
        let current = Files.linkTarget(jobs)
        guard let target = configuration.recordsDir else {
            if let current {
                // records_dir was taken out of agent.toml: the records stay where the link points.
                try Files.makeDirectories(current, mode: 0o700)
                return current
            }
            try Files.makeDirectories(jobs, mode: 0o700)
            return jobs
        }
        guard target != jobs, !target.hasPrefix(jobs + "/"), target != configuration.stateDir else {
            throw Files.Failure("records_dir \(target) must not be \(jobs), below it, or the state directory")
        }
        try Files.makeDirectories(target, mode: 0o700)
        chmod(target, 0o700)
        if current == target { return target }
        let old = current ?? jobs
        if Files.isDirectory(old) && !Files.list(old).isEmpty {
            log.info(
                "job records stay in \(old) while the jobs recorded there run; records_dir (\(target)) takes "
                    + "effect at a start with none"
            )
            return old
        }
        if current == nil && Files.isDirectory(jobs) { rmdir(jobs) }
        let staged = jobs + ".link"
        unlink(staged)
        guard symlink(target, staged) == 0, rename(staged, jobs) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(staged)
            throw Files.Failure("cannot link \(jobs) to records_dir \(target): \(reason)")
        }
        log.info("job records are in \(target) (records_dir)")
        return target
    }
}
