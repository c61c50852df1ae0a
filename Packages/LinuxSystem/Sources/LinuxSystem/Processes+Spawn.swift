internal import CLinuxShims
internal import Glibc

extension Processes {
    /// Signals whose disposition the child gets back at its default: ignored ones stay ignored across exec
    /// (a supervisor ignores SIGTERM and SIGINT, a zygote SIGCHLD), which would make a job deaf to them.
    static let defaultedSignals = [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2]

    /// Starts `executable` with `arguments` as its whole argv (argv[0] included, as the child sees it) and only
    /// `environment`, as `options` say; returns its pid. posix_spawn, not fork: the caller is multithreaded.
    ///
    /// Transient failures are retried for about 200 ms: EAGAIN (the process table is full), EINTR, and
    /// ETXTBSY (a script just written is still open for writing in a child another thread is forking, until
    /// that child execs). The messages name `arguments[0]`: "NAME: command not found" when there is no working
    /// directory, "cannot start NAME: ... (command or cwd missing)" when there is one (either may be gone),
    /// "permission denied: NAME", "cannot start NAME: REASON", "cannot open log file PATH: REASON".
    public static func spawn(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        options: SpawnOptions
    ) throws(ProcessError) -> Int32 {
        var logFD: Int32 = -1
        if case .appending(let path) = options.output {
            logFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard logFD >= 0 else {
                let code = errno
                throw ProcessError(
                    .cannotOpenOutput,
                    "cannot open log file \(path): \(String(cString: strerror(code)))",
                    underlyingErrno: code
                )
            }
        }
        defer { if logFD >= 0 { close(logFD) } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaultedSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF)
        switch options.grouping {
        case .newSession:
            flags |= Int16(clinux_spawn_setsid)
        case .newProcessGroup:
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, flags)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch options.input {
        case .null: posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, STDIN_FILENO)
        }
        switch options.output {
        case .appending:
            posix_spawn_file_actions_adddup2(&actions, logFD, STDOUT_FILENO)
            posix_spawn_file_actions_adddup2(&actions, logFD, STDERR_FILENO)
        case .descriptors(let stdout, let stderr):
            posix_spawn_file_actions_adddup2(&actions, stdout, STDOUT_FILENO)
            posix_spawn_file_actions_adddup2(&actions, stderr, STDERR_FILENO)
        }
        if let directory = options.workingDirectory { clinux_spawn_file_actions_addchdir(&actions, directory) }
        if options.closesOtherDescriptors { clinux_spawn_file_actions_addclosefrom(&actions, 3) }

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        var result: Int32 = 0
        for attempt in 0..<10 {
            if attempt > 0 { usleep(20_000) }
            result =
                options.searchesPath
                ? posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
                : posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            guard result == EAGAIN || result == EINTR || result == ETXTBSY else { break }
        }
        guard result != 0 else { return pid }
        throw failure(result, name: arguments.first ?? executable, inDirectory: options.workingDirectory != nil)
    }

    private static func failure(_ code: Int32, name: String, inDirectory: Bool) -> ProcessError {
        let reason = String(cString: strerror(code))
        // With a working directory, ENOENT may be the directory rather than the program.
        if code == ENOENT && inDirectory {
            let message = "cannot start \(name): \(reason) (command or cwd missing)"
            return ProcessError(.commandNotFound, message, underlyingErrno: code)
        }
        if (code == ENOENT || code == ENOTDIR) && !inDirectory {
            return ProcessError(.commandNotFound, "\(name): command not found", underlyingErrno: code)
        }
        if code == EACCES {
            return ProcessError(.permissionDenied, "permission denied: \(name)", underlyingErrno: code)
        }
        return ProcessError(.cannotStart, "cannot start \(name): \(reason)", underlyingErrno: code)
    }
}
