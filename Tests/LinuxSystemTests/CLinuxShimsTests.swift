import CLinuxShims
import Glibc
import Testing

/// The shims the agent and HTTPKit use for spawning, process watching, pipes and epoll.
@Suite struct CLinuxShimsTests {
    @Test func spawnInNewSessionWithChdirAndClosefrom() throws {
        let attributes = UnsafeMutablePointer<posix_spawnattr_t>.allocate(capacity: 1)
        let actions = UnsafeMutablePointer<posix_spawn_file_actions_t>.allocate(capacity: 1)
        defer {
            attributes.deallocate()
            actions.deallocate()
        }
        #expect(posix_spawnattr_init(attributes) == 0)
        #expect(posix_spawn_file_actions_init(actions) == 0)
        defer {
            posix_spawnattr_destroy(attributes)
            posix_spawn_file_actions_destroy(actions)
        }
        #expect(posix_spawnattr_setflags(attributes, clinux_spawn_setsid) == 0)
        #expect(clinux_spawn_file_actions_addchdir(actions, "/tmp") == 0)
        #expect(clinux_spawn_file_actions_addclosefrom(actions, 3) == 0)

        // The child exits 3 only if it runs in /tmp as the leader of its own session.
        let script = #"[ "$(pwd)" = /tmp ] && [ "$(cut -d' ' -f6 /proc/$$/stat)" = "$$" ] && exit 3; exit 1"#
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, "/bin/sh", actions, attributes, argv, environ) == 0)

        let pidfd = clinux_pidfd_open(pid, 0)
        #expect(pidfd >= 0)
        if pidfd >= 0 { close(pidfd) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        #expect((status >> 8) & 0xFF == 3)
    }

    @Test func pipeAndEventfd() {
        var fds: [Int32] = [-1, -1]
        #expect(clinux_pipe2(&fds, O_CLOEXEC) == 0)
        #expect(fcntl(fds[0], F_GETFD) & FD_CLOEXEC != 0)
        // Duplicate onto a descriptor this test owns (never a fixed number: tests run in parallel).
        let target = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let duplicate = clinux_dup3(fds[1], target, O_CLOEXEC)
        #expect(duplicate == target)
        for fd in fds + [target] { close(fd) }
        let event = clinux_eventfd(0, CLINUX_EFD_CLOEXEC | CLINUX_EFD_NONBLOCK)
        #expect(event >= 0)
        close(event)
        #expect(clinux_gettid() > 0)
    }
}
