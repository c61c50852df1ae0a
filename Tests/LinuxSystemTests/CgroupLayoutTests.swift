import Testing

@testable import LinuxSystem

/// The cgroup layouts the agent meets, parsed from the text of /proc/self/mountinfo and /proc/self/cgroup.
@Suite struct CgroupLayoutTests {
    /// This build machine: v2 at /sys/fs/cgroup/unified with no controllers, v1 for the controllers.
    static let hybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        36 31 0:33 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    @Test func theHybridLayoutTracksInV2AndLimitsInV1() {
        let layout = CgroupLayout.parse(
            mountinfo: Self.hybrid,
            selfCgroup: "4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n"
        )
        #expect(layout.unified == "/sys/fs/cgroup/unified")
        #expect(
            layout.v1 == [
                "cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct", "memory": "/sys/fs/cgroup/memory",
            ]
        )
        #expect(layout.own == ["memory": "/process_api/abc", "cpuacct": "/", "cpu": "/", "": "/"])
        #expect(layout.hierarchy(for: "memory")?.mount == "/sys/fs/cgroup/memory")
        #expect(layout.hierarchy(for: "memory")?.own == "/process_api/abc")
        #expect(layout.hierarchy(for: "memory")?.unified == false)
        #expect(layout.summary == "cgroup v2 (+ v1 memory, cpu)")
    }

    @Test func aPureV2NodeHasItAll() {
        var layout = CgroupLayout.parse(
            mountinfo: "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
            selfCgroup: "0::/system.slice/corral-agent.service\n"
        )
        layout.unifiedControllers = ["cpuset", "cpu", "io", "memory", "pids"]
        #expect(layout.unified == "/sys/fs/cgroup")
        #expect(layout.hierarchy(for: "memory")?.unified == true)
        #expect(layout.hierarchy(for: "cpu")?.own == "/system.slice/corral-agent.service")
        #expect(layout.summary == "cgroup v2")
    }

    @Test func aV1OnlyNodeAndANodeWithout() {
        let v1 = CgroupLayout.parse(
            mountinfo: "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                + "36 31 0:33 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n",
            selfCgroup: "3:cpu,cpuacct:/a\n2:freezer:/b\n"
        )
        #expect(v1.unified == nil)
        #expect(v1.v1["cpu"] == "/sys/fs/cgroup/cpu,cpuacct" && v1.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(v1.own["cpuacct"] == "/a" && v1.own["freezer"] == "/b")
        #expect(v1.summary == "cgroup v1")
        let none = CgroupLayout.parse(mountinfo: "22 1 0:5 / / rw - ext4 /dev/sda1 rw\n", selfCgroup: "")
        #expect(none.unified == nil && none.v1.isEmpty && none.summary == "none")
    }

    @Test func mountsOfASubtreeAndMalformedLinesAreSkipped() {
        let layout = CgroupLayout.parse(
            mountinfo: """
                40 30 0:38 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
                garbage without a separator
                41 31 0:38 / /sys/fs/cgroup/my\\040v2 rw - cgroup2 cgroup2 rw

                """,
            selfCgroup: "no colons here\n0::/x\n"
        )
        #expect(layout.v1["memory"] == nil, "a container's view of a subtree is not the hierarchy's root")
        #expect(layout.unified == "/sys/fs/cgroup/my v2")
        #expect(layout.own == ["": "/x"])
    }
}
