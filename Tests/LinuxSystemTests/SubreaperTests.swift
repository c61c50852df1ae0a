import CLinuxShims
import Glibc
import Testing

/// prctl(PR_SET_CHILD_SUBREAPER) through the shim. Never on the test process itself: a forked child becomes
/// the subreaper, and everything after the fork calls only async-signal-safe C (the child of a
/// multithreaded process must not allocate or take locks).
@Suite struct SubreaperTests {
    @Test func anOrphanedGrandchildIsReparentedToTheSubreaper() {
        let subreaper = clinux_fork()
        if subreaper == 0 {
            guard clinux_prctl_set_child_subreaper(1) == 0, clinux_prctl_get_child_subreaper() == 1 else { _exit(10) }
            let me = getpid()
            let middle = clinux_fork()
            if middle == 0 {
                if clinux_fork() == 0 {
                    // The orphan-to-be: waits for its parent to die, then says who adopted it.
                    var waited = 0
                    while getppid() != me && waited < 5000 {
                        usleep(1000)
                        waited += 1
                    }
                    _exit(getppid() == me ? 0 : 11)
                }
                _exit(0)
            }
            var status: Int32 = 0
            _ = waitpid(middle, &status, 0)
            // The orphan is ours to reap only if it was reparented to us; else waitpid fails with ECHILD.
            let reaped = waitpid(-1, &status, 0)
            _exit(reaped > 0 && status == 0 ? 0 : 12)
        }
        #expect(subreaper > 0)
        var status: Int32 = 0
        while waitpid(subreaper, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "exit status \((status >> 8) & 0xFF)")
        #expect(clinux_prctl_get_child_subreaper() == 0)
    }
}
