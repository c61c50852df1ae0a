// Built with _GNU_SOURCE (Package.swift cSettings), which exposes the GNU parts of glibc used below.
#include <sys/random.h>
#include "CLinuxShims.h"

#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int clinux_epoll_create1(int flags) { return epoll_create1(flags); }

int clinux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int clinux_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms) {
    struct epoll_event buffer[256];
    if (max > 256) {
        max = 256;
    }
    int n = epoll_wait(epfd, buffer, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i] = buffer[i].events;
        data[i] = buffer[i].data.u64;
    }
    return n;
}

int clinux_eventfd(unsigned int initval, int flags) { return eventfd(initval, flags); }

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    return accept4(fd, addr, addrlen, flags);
}

int clinux_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int clinux_dup3(int oldfd, int newfd, int flags) { return dup3(oldfd, newfd, flags); }

int clinux_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

int clinux_gettid(void) { return (int)syscall(SYS_gettid); }

pid_t clinux_fork(void) { return fork(); }

int clinux_prctl_set_child_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }

int clinux_prctl_get_child_subreaper(void) {
    int value = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&value, 0, 0, 0) != 0) {
        return -1;
    }
    return value;
}

int clinux_pthread_setname_self(const char *name) { return pthread_setname_np(pthread_self(), name); }

const short clinux_spawn_setsid = POSIX_SPAWN_SETSID;

int clinux_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int clinux_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

long clinux_getrandom(void *buffer, unsigned long length) { return getrandom(buffer, length, 0); }

#ifndef CLINUX_CLOSE_RANGE_CLOEXEC
#define CLINUX_CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int clinux_reexec(const char *path, char *const argv[], const int *keep, int keep_count) {
    if (syscall(436 /* SYS_close_range */, 3U, ~0U, CLINUX_CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = 3; fd < 65536; fd++) {
            int flags = fcntl(fd, F_GETFD);
            if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
    for (int i = 0; i < keep_count; i++) {
        int flags = fcntl(keep[i], F_GETFD);
        if (flags >= 0) fcntl(keep[i], F_SETFD, flags & ~FD_CLOEXEC);
    }
    // The new image starts as a fresh one would: SIGTERM and SIGINT at their defaults (a handler's SIG_IGN
    // would outlive the exec) and nothing blocked (the mask would too).
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    extern char **environ;
    return execve(path, argv, environ);
}
