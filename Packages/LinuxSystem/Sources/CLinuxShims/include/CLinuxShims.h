// CLinuxShims: Linux-only C that Swift's Glibc module does not expose (it is built without _GNU_SOURCE).
// Every symbol is prefixed clinux_. The .c file is compiled with _GNU_SOURCE (see Package.swift).
#ifndef CLINUX_SHIMS_H
#define CLINUX_SHIMS_H

#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>

// MARK: epoll and eventfd

// The EPOLL_EVENTS enum imports as a Swift enum; plain integer constants are easier to combine.
static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const int CLINUX_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CLINUX_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CLINUX_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
static const int CLINUX_EPOLL_CLOEXEC = EPOLL_CLOEXEC;
static const int CLINUX_EFD_CLOEXEC = EFD_CLOEXEC;
static const int CLINUX_EFD_NONBLOCK = EFD_NONBLOCK;
static const int CLINUX_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int CLINUX_SOCK_CLOEXEC = SOCK_CLOEXEC;

int clinux_epoll_create1(int flags);
// `data` is stored in epoll_event.data.u64 and handed back by clinux_epoll_wait_one.
int clinux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
// Waits and copies up to `max` events into two parallel arrays (epoll_event is packed on x86_64, so Swift
// never touches the struct itself).
int clinux_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms);

int clinux_eventfd(unsigned int initval, int flags);

// getrandom(2): bytes from the kernel's CSPRNG (blocks only before it is seeded at boot).
long clinux_getrandom(void *buffer, unsigned long length);

// MARK: sockets, pipes, descriptors

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int clinux_pipe2(int fds[2], int flags);
int clinux_dup3(int oldfd, int newfd, int flags);
// Linux 5.3+; returns -1 with errno ENOSYS on older kernels.
int clinux_pidfd_open(pid_t pid, unsigned int flags);
int clinux_gettid(void);
// fork(2), which Swift's Glibc module does not offer. Only for single-threaded processes (the agent's
// supervisor zygote), where it is safe.
pid_t clinux_fork(void);

// MARK: processes

// prctl(PR_SET_CHILD_SUBREAPER, on): orphaned descendants are reparented to the caller instead of init, so a
// process that starts jobs can still wait for what they leave behind. prctl is variadic, which Swift cannot
// call. Returns 0, or -1 with errno.
int clinux_prctl_set_child_subreaper(int on);
// prctl(PR_GET_CHILD_SUBREAPER): 1 if the caller is a subreaper, 0 if not, -1 with errno on failure.
int clinux_prctl_get_child_subreaper(void);

// MARK: threads

// Names the calling thread (at most 15 bytes are kept).
int clinux_pthread_setname_self(const char *name);

// MARK: posix_spawn GNU extensions (glibc 2.34+)

extern const short clinux_spawn_setsid;
int clinux_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
int clinux_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

// MARK: starting a job's process (job_spawn.c)

enum {
    CLINUX_STAGE_FORK = 1,
    CLINUX_STAGE_SESSION = 2,
    CLINUX_STAGE_CGROUP = 3,
    CLINUX_STAGE_NAMESPACE = 4,
    CLINUX_STAGE_HIDE_DEVICE = 5,
    CLINUX_STAGE_OUTPUT = 6,
    CLINUX_STAGE_GROUPS = 7,
    CLINUX_STAGE_GID = 8,
    CLINUX_STAGE_UID = 9,
    CLINUX_STAGE_CWD = 10,
    CLINUX_STAGE_EXEC = 11,
};

// What the child does between fork and exec, in this order: a new session; joins each cgroup by writing "0"
// to its procs file; enters `mount_namespace` (a /proc/PID/ns/mnt path) or, with hidden devices, a private
// mount namespace of its own where `mask_path` is bind-mounted over each hidden device node; stdout and
// stderr onto `output_fd`, stdin from `input_fd` (-1 keeps them); setgroups, setgid, setuid; chdir to `cwd`
// as that account; every other descriptor closed; execve.
struct clinux_job_spawn {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int input_fd;
    int output_fd;
    int new_session;
    int set_identity;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int group_count;
    const char *const *cgroup_procs;
    int cgroup_count;
    const char *mount_namespace;
    const char *const *hidden_devices;
    int hidden_count;
    const char *mask_path;
};

// Forks and execs as `spec` says. Returns the child's pid once it has exec'd, or -1 with the stage that
// failed (CLINUX_STAGE_*) and its errno (the child is reaped then).
pid_t clinux_job_spawn(const struct clinux_job_spawn *spec, int *failed_stage, int *failed_errno);

// Replaces the process's image with `path` (same pid, so a service manager sees no exit): every descriptor from
// 3 up but those in `keep` (what the process inherited) is marked close-on-exec first, SIGTERM and SIGINT go
// back to their defaults and no signal stays blocked. Returns only on failure (-1, errno set).
int clinux_reexec(const char *path, char *const argv[], const int *keep, int keep_count);

#endif
