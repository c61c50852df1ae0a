import ClusterCore
import Testing

@Suite struct JobSpecTests {
    static func good() -> JobSpec {
        JobSpec(
            name: "train-resnet.v2",
            command: ["python", "train.py", "--epochs", "10"],
            cwd: "/home/alice/project",
            env: ["PYTHONPATH": "/opt/lib", "_PRIVATE": "x", "A1": ""],
            queue: "gpu-long",
            resources: Resources(gpus: 8, cpus: 32, memory: 256 << 30),
            gpuType: "H100",
            image: "nvcr.io/nvidia/pytorch:24.05-py3",
            timeLimit: 3600,
            maxRetries: 3,
            priority: 100,
            labels: ["zone": "eu-west/1", "rack": "r12"],
            dependsOn: [JobID("abcde12345")]
        )
    }

    /// The field a spec is refused for, or nil when it is accepted.
    static func refusedField(_ spec: JobSpec) -> String? {
        do {
            try spec.validate()
            return nil
        } catch {
            #expect(!error.message.isEmpty)
            #expect(error.description == "\(error.field): \(error.message)")
            return error.field
        }
    }

    static func with(_ change: (inout JobSpec) -> Void) -> JobSpec {
        var spec = good()
        change(&spec)
        return spec
    }

    @Test func acceptsAGoodSpec() throws {
        try Self.good().validate()
        try JobSpec(command: ["true"]).validate()
    }

    @Test func defaults() {
        let spec = JobSpec(command: ["nvidia-smi"])
        #expect(spec.name == "")
        #expect(spec.cwd == "/")
        #expect(spec.queue == "default")
        #expect(spec.resources == Resources(gpus: 0, cpus: 1, memory: 0))
        #expect(spec.maxRetries == 0)
        #expect(spec.priority == 0)
        #expect(spec.timeLimit == nil)
        #expect(spec.dependsOn.isEmpty)
    }

    static let refusals: [(String, String, @Sendable (inout JobSpec) -> Void)] = [
        ("empty command", "command", { $0.command = [] }),
        ("empty argv[0]", "command", { $0.command = ["", "x"] }),
        ("NUL in an argument", "command", { $0.command = ["echo", "a\0b"] }),
        ("NUL in argv[0]", "command", { $0.command = ["ec\0ho"] }),
        ("too many arguments", "command", { $0.command = Array(repeating: "x", count: SpecLimits.maxArguments + 1) }),
        (
            "huge argument", "command",
            { $0.command = ["echo", String(repeating: "a", count: SpecLimits.maxArgumentBytes + 1)] }
        ),
        (
            "huge command line", "command",
            { $0.command = ["echo"] + Array(repeating: String(repeating: "a", count: 100_000), count: 11) }
        ),
        ("relative cwd", "cwd", { $0.cwd = "project" }),
        ("dot cwd", "cwd", { $0.cwd = "./project" }),
        ("empty cwd", "cwd", { $0.cwd = "" }),
        ("cwd with NUL", "cwd", { $0.cwd = "/home/\0/x" }),
        ("huge cwd", "cwd", { $0.cwd = "/" + String(repeating: "a", count: 5000) }),
        ("negative gpus", "gpus", { $0.resources.gpus = -1 }),
        ("gpus over limit", "gpus", { $0.resources.gpus = SpecLimits.maxGPUs + 1 }),
        ("negative cpus", "cpus", { $0.resources.cpus = -4 }),
        ("cpus over limit", "cpus", { $0.resources.cpus = SpecLimits.maxCPUs + 1 }),
        ("negative memory", "memory", { $0.resources.memory = -1 }),
        ("env name starting with a digit", "env", { $0.env = ["1X": "v"] }),
        ("env name with a dash", "env", { $0.env = ["A-B": "v"] }),
        ("empty env name", "env", { $0.env = ["": "v"] }),
        ("env name with a space", "env", { $0.env = ["A B": "v"] }),
        ("env name with '='", "env", { $0.env = ["A=B": "v"] }),
        ("non-ASCII env name", "env", { $0.env = ["ÄPFEL": "v"] }),
        ("reserved CUDA_VISIBLE_DEVICES", "env", { $0.env = ["CUDA_VISIBLE_DEVICES": "0,1,2,3"] }),
        ("reserved NVIDIA_VISIBLE_DEVICES", "env", { $0.env = ["NVIDIA_VISIBLE_DEVICES": "all"] }),
        ("reserved CORRAL_ prefix", "env", { $0.env = ["CORRAL_X": "1"] }),
        ("reserved CORRAL_JOB_ID", "env", { $0.env = ["CORRAL_JOB_ID": "other"] }),
        ("NUL in env value", "env", { $0.env = ["A": "x\0y"] }),
        ("huge env value", "env", { $0.env = ["BIG": String(repeating: "v", count: SpecLimits.maxEnvValueBytes + 1)] }),
        (
            "too many env entries", "env",
            { spec in
                spec.env = Dictionary(uniqueKeysWithValues: (0...SpecLimits.maxEnvEntries).map { ("V\($0)", "x") })
            }
        ),
        ("empty queue", "queue", { $0.queue = "" }),
        ("queue with a space", "queue", { $0.queue = "gpu long" }),
        ("queue with a dot", "queue", { $0.queue = "gpu.long" }),
        ("queue with a slash", "queue", { $0.queue = "../etc" }),
        ("queue too long", "queue", { $0.queue = String(repeating: "q", count: 64) }),
        ("non-ASCII queue", "queue", { $0.queue = "grün" }),
        ("name with a space", "name", { $0.name = "my job" }),
        ("name with a slash", "name", { $0.name = "a/b" }),
        ("name with a semicolon", "name", { $0.name = "x;rm -rf /" }),
        ("name with an emoji", "name", { $0.name = "train🚀" }),
        ("name too long", "name", { $0.name = String(repeating: "n", count: SpecLimits.maxNameLength + 1) }),
        ("empty gpu_type", "gpu_type", { $0.gpuType = "" }),
        ("gpu_type with a space", "gpu_type", { $0.gpuType = "H100 SXM" }),
        ("empty image", "image", { $0.image = "" }),
        ("image with whitespace", "image", { $0.image = "ubuntu 24.04" }),
        ("image that docker would read as an option", "image", { $0.image = "--privileged" }),
        ("image starting with a dash", "image", { $0.image = "-v=/:/host" }),
        ("time_limit 0", "time_limit", { $0.timeLimit = 0 }),
        ("time_limit negative", "time_limit", { $0.timeLimit = -60 }),
        ("time_limit too big", "time_limit", { $0.timeLimit = SpecLimits.maxTimeLimit + 1 }),
        ("time_limit Int.max", "time_limit", { $0.timeLimit = Int.max }),
        ("kill_grace negative", "kill_grace", { $0.killGrace = -1 }),
        ("kill_grace over an hour", "kill_grace", { $0.killGrace = SpecLimits.maxKillGrace + 1 }),
        ("kill_grace Int.min", "kill_grace", { $0.killGrace = Int.min }),
        ("max_retries -1", "max_retries", { $0.maxRetries = -1 }),
        ("max_retries 101", "max_retries", { $0.maxRetries = 101 }),
        ("priority too high", "priority", { $0.priority = 10_001 }),
        ("priority too low", "priority", { $0.priority = -10_001 }),
        ("priority Int.min", "priority", { $0.priority = Int.min }),
        (
            "too many labels", "labels",
            { spec in spec.labels = Dictionary(uniqueKeysWithValues: (0...SpecLimits.maxLabels).map { ("k\($0)", "v") })
            }
        ),
        ("empty label value", "labels", { $0.labels = ["zone": ""] }),
        ("label key with a space", "labels", { $0.labels = ["my zone": "a"] }),
        ("depends_on with a bad id", "depends_on", { $0.dependsOn = [JobID("abc def")] }),
        ("depends_on with an empty id", "depends_on", { $0.dependsOn = [JobID("")] }),
        ("depends_on with SQL", "depends_on", { $0.dependsOn = [JobID("x'; DROP TABLE jobs;--")] }),
        ("depends_on with a long id", "depends_on", { $0.dependsOn = [JobID(String(repeating: "a", count: 65))] }),
        (
            "too many dependencies", "depends_on",
            { $0.dependsOn = (0...SpecLimits.maxDependencies).map { JobID("job\($0)") } }
        ),
    ]

    @Test(arguments: 0..<refusals.count)
    func refuses(_ index: Int) {
        let (what, field, change) = Self.refusals[index]
        #expect(Self.refusedField(Self.with(change)) == field, "\(what) should be refused as '\(field)'")
    }

    static let acceptances: [(String, @Sendable (inout JobSpec) -> Void)] = [
        ("no name", { $0.name = "" }),
        ("name at the limit", { $0.name = String(repeating: "n", count: SpecLimits.maxNameLength) }),
        ("zero everything", { $0.resources = .zero }),
        ("gpus at the limit", { $0.resources.gpus = SpecLimits.maxGPUs }),
        ("arguments may be empty after argv[0]", { $0.command = ["echo", ""] }),
        ("arguments may be unicode", { $0.command = ["echo", "grüße 🚀", "日本語"] }),
        ("env value may be anything but NUL", { $0.env = ["X": "a=b; $(rm -rf /) \n 🚀"] }),
        ("env value at the limit", { $0.env = ["BIG": String(repeating: "v", count: SpecLimits.maxEnvValueBytes)] }),
        ("underscore env name", { $0.env = ["_": "1", "lower_case": "2"] }),
        ("CORRAL without underscore is not reserved", { $0.env = ["CORRALX": "1"] }),
        ("queue at 63", { $0.queue = String(repeating: "q", count: 63) }),
        ("time_limit 1", { $0.timeLimit = 1 }),
        ("time_limit at the limit", { $0.timeLimit = SpecLimits.maxTimeLimit }),
        ("no time_limit", { $0.timeLimit = nil }),
        ("kill_grace 0 (SIGKILL at once)", { $0.killGrace = 0 }),
        ("kill_grace an hour", { $0.killGrace = SpecLimits.maxKillGrace }),
        ("max_retries 0", { $0.maxRetries = 0 }),
        ("max_retries 100", { $0.maxRetries = 100 }),
        ("priority bounds", { $0.priority = -10_000 }),
        ("priority upper bound", { $0.priority = 10_000 }),
        (
            "labels at the limit",
            { spec in
                spec.labels = Dictionary(uniqueKeysWithValues: (0..<SpecLimits.maxLabels).map { ("k\($0)", "v") })
            }
        ),
        ("root cwd", { $0.cwd = "/" }),
    ]

    @Test(arguments: 0..<acceptances.count)
    func accepts(_ index: Int) {
        let (what, change) = Self.acceptances[index]
        #expect(Self.refusedField(Self.with(change)) == nil, "\(what) should be accepted")
    }

    @Test func errorMessagesDoNotEchoHugeInput() throws {
        let hostile = String(repeating: "x", count: 100_000)
        var spec = Self.good()
        spec.cwd = hostile
        let error = #expect(throws: SpecError.self) { try spec.validate() }
        #expect(error?.field == "cwd")
        #expect((error?.message.count ?? .max) < 1000)
        spec = Self.good()
        spec.env = ["1" + hostile: "v"]
        let envError = #expect(throws: SpecError.self) { try spec.validate() }
        #expect((envError?.message.count ?? .max) < 1000)
    }

    @Test func nameIsCheckedBeforeCommand() {
        var spec = Self.good()
        spec.name = "bad name"
        spec.command = []
        #expect(Self.refusedField(spec) == "name")
    }

    @Test func isSimpleName() {
        #expect(JobSpec.isSimpleName("default"))
        #expect(JobSpec.isSimpleName("a_b-C9"))
        #expect(!JobSpec.isSimpleName(""))
        #expect(!JobSpec.isSimpleName("a.b"))
        #expect(!JobSpec.isSimpleName(String(repeating: "a", count: 64)))
    }

    // MARK: ByteSize

    static let parseCases: [(String, Int64)] = [
        ("0", 0),
        ("512", 512),
        ("512B", 512),
        ("1K", 1024),
        ("1k", 1024),
        ("512M", 512 << 20),
        ("512m", 512 << 20),
        ("32G", 32 << 30),
        ("32g", 32 << 30),
        ("1.5T", 3 << 39),
        ("2T", 2 << 40),
        ("8Gi", 8 << 30),
        ("8GiB", 8 << 30),
        ("8gib", 8 << 30),
        ("8GB", 8 << 30),
        (" 4G ", 4 << 30),
        ("\t4G\n", 4 << 30),
        ("0.5K", 512),
        ("1.5", 1),
    ]

    @Test(arguments: parseCases)
    func byteSizeParses(_ text: String, _ bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        "", " ", "G", "GiB", "B", "-1G", "-1", "1X", "1E", "abc", "1e30G", "1e3", "1.2.3G", "1 G", "1,5G", "+1G",
        "0x10", "nan", "inf", "1G1", "١G", "１G", "9999999999T", "9000000000000000000",
        String(repeating: "9", count: 40), String(repeating: "1", count: 10_000) + "G",
    ])
    func byteSizeRefuses(_ text: String) {
        #expect(ByteSize.parse(text) == nil, "'\(text.prefix(40))' should not parse")
    }

    @Test func byteSizeParseLimitIsBelowInt64Max() {
        // 8,000,000 TiB is about 8.8e18 bytes: still an Int64.
        #expect(ByteSize.parse("8000000T") == 8_000_000 << 40)
        #expect(ByteSize.parse("8200000T") == nil)
        #expect(ByteSize.parse("8000000000000000000") == 8_000_000_000_000_000_000)
    }

    static let formatCases: [(Int64, String)] = [
        (0, "0"),
        (1, "1"),
        (1023, "1023"),
        (1024, "1K"),
        (1536, "1.5K"),
        (512 << 20, "512M"),
        (32 << 30, "32G"),
        (3 << 39, "1.5T"),
        (2 << 40, "2T"),
        ((1 << 30) + 1, "1.0G"),
        ((1 << 30) * 3 / 2 + 1, "1.5G"),
        (1_000_000_000, "953.7M"),
        (1 << 50, "1024T"),
    ]

    @Test(arguments: formatCases)
    func byteSizeFormats(_ bytes: Int64, _ text: String) {
        #expect(ByteSize.format(bytes) == text)
    }

    static let exactSizes: [Int64] = [1, 1024, 512 << 20, 32 << 30, 3 << 39, 7 << 40]

    @Test(arguments: exactSizes)
    func byteSizeRoundTripsExactUnits(_ bytes: Int64) {
        #expect(ByteSize.parse(ByteSize.format(bytes)) == bytes)
    }

    /// `format` computes `bytes * 10` for inexact values, which overflows (a trap) above about 9.2e17 bytes; a
    /// validated spec may carry any non-negative memory, and `corral show` formats it.
    @Test func byteSizeFormatDoesNotTrapOnHugeValues() async {
        do {
            await #expect(processExitsWith: .success) {
                _ = ByteSize.format(1_000_000_000_000_000_001)
            }
        }
    }

    // MARK: Resources

    @Test func resourcesArithmeticAndFit() {
        let node = Resources(gpus: 8, cpus: 64, memory: 512 << 30)
        let job = Resources(gpus: 2, cpus: 16, memory: 64 << 30)
        #expect(job.fits(in: node))
        #expect(!node.fits(in: job))
        #expect(node - job == Resources(gpus: 6, cpus: 48, memory: 448 << 30))
        #expect(job + job == Resources(gpus: 4, cpus: 32, memory: 128 << 30))
        #expect(!Resources(gpus: 0, cpus: 0, memory: 1).fits(in: .zero))
        #expect(Resources.zero.fits(in: .zero))
    }
}
