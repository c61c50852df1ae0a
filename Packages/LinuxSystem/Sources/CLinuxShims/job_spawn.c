// Starting a process as another account, in its cgroups, with some device nodes hidden: what posix_spawn
// cannot do. Everything between fork and exec is async-signal-safe system calls, so the caller may be
// multithreaded (the agent, for `corral exec`) as well as single-threaded (a job's supervisor).
#include "CLinuxShims.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct failure {
    int stage;
    int error;
};

static void fail(int pipe_fd, int stage) {
    struct failure report = {stage, errno};
    ssize_t ignored = write(pipe_fd, &report, sizeof report);
    (void)ignored;
    _exit(127);
}

static int write_text(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return written == (ssize_t)length ? 0 : -1;
}

static void child(const struct clinux_job_spawn *spec, int report) {
    // Signals as a fresh process has them: none blocked, none ignored (the caller may ignore SIGTERM).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int number = 1; number < NSIG; number++) {
        if (number != SIGKILL && number != SIGSTOP) {
            signal(number, SIG_DFL);
        }
    }
    if (spec->new_session && setsid() < 0) {
        fail(report, CLINUX_STAGE_SESSION);
    }
    for (int i = 0; i < spec->cgroup_count; i++) {
        if (write_text(spec->cgroup_procs[i], "0") != 0) {
            fail(report, CLINUX_STAGE_CGROUP);
        }
    }
    if (spec->mount_namespace != NULL) {
        int fd = open(spec->mount_namespace, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNS) != 0) {
            fail(report, CLINUX_STAGE_NAMESPACE);
        }
        close(fd);
    } else if (spec->hidden_count > 0) {
        if (unshare(CLONE_NEWNS) != 0) {
            fail(report, CLINUX_STAGE_NAMESPACE);
        }
        // Mounts made here must not propagate back to the node's namespace; the node's later mounts (autofs,
        // NFS home directories) still reach the job.
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
            fail(report, CLINUX_STAGE_NAMESPACE);
        }
        for (int i = 0; i < spec->hidden_count; i++) {
            if (mount(spec->mask_path, spec->hidden_devices[i], NULL, MS_BIND, NULL) != 0) {
                fail(report, CLINUX_STAGE_HIDE_DEVICE);
            }
        }
    }
    if (spec->output_fd >= 0) {
        if (dup2(spec->output_fd, STDOUT_FILENO) < 0 || dup2(spec->output_fd, STDERR_FILENO) < 0) {
            fail(report, CLINUX_STAGE_OUTPUT);
        }
    }
    if (spec->input_fd >= 0 && dup2(spec->input_fd, STDIN_FILENO) < 0) {
        fail(report, CLINUX_STAGE_OUTPUT);
    }
    if (spec->set_identity) {
        if (setgroups((size_t)spec->group_count, spec->groups) != 0) {
            fail(report, CLINUX_STAGE_GROUPS);
        }
        if (setgid(spec->gid) != 0) {
            fail(report, CLINUX_STAGE_GID);
        }
        if (setuid(spec->uid) != 0) {
            fail(report, CLINUX_STAGE_UID);
        }
    }
    // As the account: a directory it may not enter is its launch failure, not a root's success.
    if (spec->cwd != NULL && chdir(spec->cwd) != 0) {
        fail(report, CLINUX_STAGE_CWD);
    }
    // Nothing the caller opened reaches the job, the report pipe aside (it is close-on-exec already).
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 65536; fd++) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    execve(spec->path, spec->argv, spec->envp);
    fail(report, CLINUX_STAGE_EXEC);
}

pid_t clinux_job_spawn(const struct clinux_job_spawn *spec, int *failed_stage, int *failed_errno) {
    int fds[2];
    *failed_stage = 0;
    *failed_errno = 0;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        *failed_stage = CLINUX_STAGE_FORK;
        *failed_errno = errno;
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *failed_stage = CLINUX_STAGE_FORK;
        *failed_errno = errno;
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child(spec, fds[1]);
    }
    close(fds[1]);
    // End of file: the exec went through (the pipe closed with it). A report: the child failed and is gone.
    struct failure report;
    ssize_t got;
    do {
        got = read(fds[0], &report, sizeof report);
    } while (got < 0 && errno == EINTR);
    close(fds[0]);
    if (got == (ssize_t)sizeof report) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        *failed_stage = report.stage;
        *failed_errno = report.error;
        return -1;
    }
    return pid;
}

