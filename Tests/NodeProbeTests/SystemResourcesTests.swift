import Testing

@testable import NodeProbe

@Suite("/proc and cgroup parsers")
struct SystemResourcesTests {
    @Test("MemTotal from the real H100 node's /proc/meminfo")
    func meminfoReal() throws {
        let meminfo = try Fixture.text("roots/h100-node/proc/meminfo")
        #expect(SystemResources.parseMeminfoTotalBytes(meminfo) == Int64(131_981_020) * 1024)
    }

    @Test(
        "MemTotal: hostile input is nil",
        arguments: [
            "", "garbage", "MemFree: 100 kB", "MemTotal:", "MemTotal: kB", "MemTotal: -5 kB", "MemTotal: 0 kB",
            "MemTotal: 12 TB", "MemTotal: 1e9 kB", "MemTotal: 99999999999999999999999 kB",
            "MemTotal: 9223372036854775807 kB",
        ]
    )
    func meminfoHostile(text: String) {
        #expect(SystemResources.parseMeminfoTotalBytes(text) == nil)
    }

    @Test("MemTotal without a unit is bytes")
    func meminfoNoUnit() {
        #expect(SystemResources.parseMeminfoTotalBytes("MemTotal: 4096\n") == 4096)
    }

    @Test("cgroup v2 cpu.max")
    func cpuMax() {
        #expect(SystemResources.parseCgroupV2CPUMax("200000 100000") == 2.0)
        #expect(SystemResources.parseCgroupV2CPUMax("150000 100000\n") == 1.5)
        #expect(SystemResources.parseCgroupV2CPUMax("50000") == 0.5)
        #expect(SystemResources.parseCgroupV2CPUMax("max 100000") == nil)
        #expect(SystemResources.parseCgroupV2CPUMax("max") == nil)
    }

    @Test(
        "cgroup v2 cpu.max: hostile input is nil",
        arguments: [
            "", "\n", "garbage", "-100 100000", "100000 0", "100000 -5", "100000 abc", "1 2 3", "0 100000",
            "99999999999999999999999 100000", "+5 10", "0x10 100000",
        ]
    )
    func cpuMaxHostile(text: String) {
        #expect(SystemResources.parseCgroupV2CPUMax(text) == nil)
    }

    @Test("cgroup v2 memory.max")
    func memoryMax() {
        #expect(SystemResources.parseCgroupV2MemoryMax("17179869184\n") == 17_179_869_184)
        #expect(SystemResources.parseCgroupV2MemoryMax("max\n") == nil)
        for hostile in ["", "-1", "abc", "0", "99999999999999999999999", "12 34", "1.5"] {
            #expect(SystemResources.parseCgroupV2MemoryMax(hostile) == nil, "\(hostile)")
        }
    }

    @Test("cgroup v1 CFS quota")
    func v1CPU() {
        #expect(SystemResources.parseCgroupV1CPU(quota: "150000\n", period: "100000\n") == 1.5)
        #expect(SystemResources.parseCgroupV1CPU(quota: "-1\n", period: "100000\n") == nil)
        #expect(SystemResources.parseCgroupV1CPU(quota: "", period: "") == nil)
        #expect(SystemResources.parseCgroupV1CPU(quota: "abc", period: "100000") == nil)
        #expect(SystemResources.parseCgroupV1CPU(quota: "100000", period: "0") == nil)
        #expect(SystemResources.parseCgroupV1CPU(quota: "100000", period: "-100000") == nil)
        #expect(SystemResources.parseCgroupV1CPU(quota: "99999999999999999999", period: "100000") == nil)
    }

    @Test("cgroup v1 memory limit, with the 'unlimited' sentinel")
    func v1Memory() {
        #expect(SystemResources.parseCgroupV1MemoryLimit("4294967296\n") == 4_294_967_296)
        #expect(SystemResources.parseCgroupV1MemoryLimit("9223372036854771712\n") == nil)
        #expect(SystemResources.parseCgroupV1MemoryLimit("4611686018427387904") == nil)  // 2^62
        #expect(SystemResources.parseCgroupV1MemoryLimit("4611686018427387903") == 4_611_686_018_427_387_903)
        for hostile in ["", "-1", "18446744073709551615", "abc", "0", "1 2"] {
            #expect(SystemResources.parseCgroupV1MemoryLimit(hostile) == nil, "\(hostile)")
        }
    }

    @Test("CPU lists")
    func cpuList() {
        #expect(SystemResources.parseCPUList("0-3,8-11") == 8)
        #expect(SystemResources.parseCPUList("0-15\n") == 16)
        #expect(SystemResources.parseCPUList("5") == 1)
        #expect(SystemResources.parseCPUList("0,2,4") == 3)
        #expect(SystemResources.parseCPUList("0-3,2-5") == 6)
        #expect(SystemResources.parseCPUList("8-11,0-3") == 8)
        #expect(SystemResources.parseCPUList("0-3,1") == 4)
    }

    @Test(
        "CPU lists: hostile input is nil",
        arguments: ["", "\n", "3-1", "a-b", "0-", "-1", "1,,2", "0-1-2", "0-99999999999999999999", "0-2000000", "x"]
    )
    func cpuListHostile(text: String) {
        #expect(SystemResources.parseCPUList(text) == nil)
    }
}
