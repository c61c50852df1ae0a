import ClusterCore
import ClusterWire
import Testing

@Suite struct SubmitJobRequestTests {
    static func decode(_ json: String) throws(WireDecodingError) -> SubmitJobRequest {
        try WireJSON.decode(SubmitJobRequest.self, from: Array(json.utf8))
    }

    static func decodeError(_ json: String) -> WireDecodingError? {
        do {
            _ = try decode(json)
            Issue.record("decoded \(json.prefix(80)) without error")
            return nil
        } catch {
            return error
        }
    }

    static func specError(_ json: String) throws -> SpecError? {
        let request = try decode(json)
        do {
            _ = try request.toSpec()
            return nil
        } catch {
            return error
        }
    }

    /// Issue 15: `checkpoint_signal` takes Slurm's `--signal` spelling; anything else is a 400 naming the field.
    @Test func checkpointSignal() throws {
        let spec = try Self.decode(#"{"command":["x"],"checkpoint_signal":"SIGUSR1@90"}"#).toSpec()
        #expect(spec.checkpointSignal == JobSignal(number: 10, seconds: 90))
        for bad in ["KILL@5", "USR1@0", "", "USR1@x"] {
            let error = try Self.specError(#"{"command":["x"],"checkpoint_signal":""# + bad + #""}"#)
            #expect(error?.field == "checkpoint_signal", "\(bad)")
        }
        #expect(Self.decodeError(#"{"command":["x"],"checkpoint_signal":12}"#) != nil)
    }

    @Test func minimalBody() throws {
        let request = try Self.decode(#"{"command": ["nvidia-smi"]}"#)
        #expect(request.command == ["nvidia-smi"])
        #expect(request.name == nil && request.gpus == nil && request.memory == nil && request.dependsOn == nil)
        let spec = try request.toSpec()
        #expect(spec == JobSpec(command: ["nvidia-smi"]))
        #expect(spec.cwd == "/")
        #expect(spec.queue == "default")
        #expect(spec.resources == Resources(gpus: 0, cpus: 1, memory: 0))
        #expect(spec.maxRetries == 0 && spec.priority == 0 && spec.timeLimit == nil)
    }

    @Test func fullBodyWithSnakeCaseKeys() throws {
        let json = """
            {
              "name": "train",
              "command": ["python", "train.py", "--lr", "3e-4"],
              "cwd": "/home/alice/proj",
              "env": {"WANDB_MODE": "offline", "SEED": "1"},
              "queue": "long",
              "gpus": 4,
              "gpu_type": "H100",
              "cpus": 16,
              "memory": "32G",
              "image": "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
              "time_limit": 7200,
              "max_retries": 2,
              "priority": -5,
              "labels": {"zone": "eu"},
              "depends_on": ["abc123", "def456"]
            }
            """
        let spec = try Self.decode(json).toSpec()
        let expected = JobSpec(
            name: "train",
            command: ["python", "train.py", "--lr", "3e-4"],
            cwd: "/home/alice/proj",
            env: ["WANDB_MODE": "offline", "SEED": "1"],
            queue: "long",
            resources: Resources(gpus: 4, cpus: 16, memory: 32 << 30),
            gpuType: "H100",
            image: "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
            timeLimit: 7200,
            maxRetries: 2,
            priority: -5,
            labels: ["zone": "eu"],
            dependsOn: [JobID("abc123"), JobID("def456")]
        )
        #expect(spec == expected)
    }

    @Test(arguments: [
        (#"34359738368"#, Int64(34_359_738_368)),
        (#""32G""#, 34_359_738_368),
        (#""512M""#, 536_870_912),
        (#""8GiB""#, 8_589_934_592),
        (#""1024""#, 1024),
        (#"0"#, 0),
    ])
    func memoryAsIntegerOrSize(_ value: String, _ bytes: Int64) throws {
        let request = try Self.decode(#"{"command": ["x"], "memory": \#(value)}"#)
        #expect(request.memory?.bytes == bytes)
        #expect(try request.toSpec().resources.memory == bytes)
    }

    @Test(arguments: [#""lots""#, #""-1G""#, #"1.5"#, #"true"#, #"[1]"#, #"{}"#, #"1e30"#, #""""#])
    func badMemoryNamesTheField(_ value: String) {
        let error = Self.decodeError(#"{"command": ["x"], "memory": \#(value)}"#)
        #expect(error?.field == "memory")
        #expect(error?.message.contains("32G") == true)
    }

    @Test func nullMemoryIsAbsent() throws {
        #expect(try Self.decode(#"{"command": ["x"], "memory": null}"#).memory == nil)
    }

    /// Rounding a huge per-GPU memory up to MiB must not overflow (it trapped the controller).
    @Test func hugeGPUMemoryIsRefusedNotACrash() throws {
        #expect(try Self.specError(#"{"command": ["x"], "gpu_memory": 9223372036854775807}"#)?.field == "gpu_memory")
        let exact = try Self.decode(#"{"command": ["x"], "gpu_memory": 1048577}"#).toSpec()
        #expect(exact.gpuMemoryMiB == 2)
        // A size string is read as vendors name GPU memory: 80G = 80 x 10^9 bytes = 76,294 MiB (issue 18).
        #expect(try Self.decode(#"{"command": ["x"], "gpu_memory": "80G"}"#).toSpec().gpuMemoryMiB == 76_294)
        #expect(try Self.decode(#"{"command": ["x"], "gpu_memory": "80Gi"}"#).toSpec().gpuMemoryMiB == 81_920)
        #expect(Self.decodeError(#"{"command": ["x"], "gpu_memory": "huge"}"#)?.field == "gpu_memory")
    }

    @Test func negativeMemoryIsRefusedByValidation() throws {
        #expect(try Self.specError(#"{"command": ["x"], "memory": -1}"#)?.field == "memory")
    }

    @Test(arguments: [
        ("gpu", #"{"command": ["x"], "gpu": 2}"#),
        ("gpu_count", #"{"command": ["x"], "gpu_count": 2}"#),
        ("user", #"{"command": ["x"], "user": "root"}"#),
        ("state", #"{"command": ["x"], "state": "SUCCEEDED"}"#),
        ("mem", #"{"mem": "4G", "command": ["x"]}"#),
    ])
    func unknownFieldsAreRefusedByName(_ field: String, _ json: String) {
        let error = Self.decodeError(json)
        #expect(error?.field == field)
        #expect(error?.message == "unknown field")
        #expect(error?.description == "\(field): unknown field")
    }

    @Test(arguments: [
        ("gpus", #"{"command": ["x"], "gpus": "two"}"#, "an integer"),
        ("cpus", #"{"command": ["x"], "cpus": true}"#, "an integer"),
        ("time_limit", #"{"command": ["x"], "time_limit": "1h"}"#, "an integer"),
        ("kill_grace", #"{"command": ["x"], "kill_grace": "10s"}"#, "an integer"),
        ("max_retries", #"{"command": ["x"], "max_retries": [1]}"#, "an integer"),
        ("command", #"{"command": "python train.py"}"#, "an array"),
        ("command[1]", #"{"command": ["python", 3]}"#, "a string"),
        ("name", #"{"command": ["x"], "name": 7}"#, "a string"),
        ("env", #"{"command": ["x"], "env": ["A=B"]}"#, "an object"),
        ("env.a", #"{"command": ["x"], "env": {"a": 1}}"#, "a string"),
        ("labels.zone", #"{"command": ["x"], "labels": {"zone": false}}"#, "a string"),
        ("depends_on", #"{"command": ["x"], "depends_on": "abc"}"#, "an array"),
        ("gpu_type", #"{"command": ["x"], "gpu_type": {"name": "H100"}}"#, "a string"),
    ])
    func wrongTypesNameTheField(_ field: String, _ json: String, _ expected: String) {
        let error = Self.decodeError(json)
        #expect(error?.field == field)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "nil")")
    }

    @Test func nullForARequiredFieldNamesIt() {
        let error = Self.decodeError(#"{"command": null}"#)
        #expect(error?.field == "command")
        #expect(error?.message.contains("null") == true)
    }

    @Test func missingCommand() {
        let error = Self.decodeError(#"{"gpus": 1}"#)
        #expect(error?.field == "command")
        #expect(error?.message == "is required")
        #expect(Self.decodeError("{}")?.field == "command")
    }

    @Test func emptyBody() {
        let error = Self.decodeError("")
        #expect(error?.field == nil)
        #expect(error?.message.contains("empty") == true)
    }

    @Test(arguments: [
        "{", "}", "nul", "{\"command\": [\"x\"]", "{'command': ['x']}", "command=x",
        "\u{FEFF}\u{FEFF}{}", "{\"command\": [\"x\"]} trailing", "   ", "\n",
    ])
    func invalidJSON(_ body: String) {
        let error = Self.decodeError(body)
        #expect(error != nil)
        #expect(error?.field == nil, "\(error?.description ?? "")")
    }

    @Test(arguments: ["[]", #"[{"command": ["x"]}]"#, "\"command\"", "42", "null", "true"])
    func bodyThatIsNotAnObject(_ body: String) {
        let error = Self.decodeError(body)
        #expect(error != nil)
        #expect(error?.field == nil)
    }

    @Test func deeplyNestedGarbageIsRefusedWithoutCrashing() {
        for depth in [100, 10_000, 100_000] {
            let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            #expect(Self.decodeError(#"{"command": \#(arrays)}"#) != nil)
            let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
            #expect(Self.decodeError(#"{"command": ["x"], "env": \#(objects)}"#) != nil)
            #expect(Self.decodeError(arrays) != nil)
        }
    }

    @Test func nulBytes() throws {
        // A raw NUL byte is not JSON.
        var bytes = Array(#"{"command": ["x"]}"#.utf8)
        bytes.insert(0, at: 14)
        #expect(throws: WireDecodingError.self) { try WireJSON.decode(SubmitJobRequest.self, from: bytes) }
        #expect(throws: WireDecodingError.self) { try WireJSON.decode(SubmitJobRequest.self, from: [0, 0, 0]) }
        // An escaped NUL decodes, and validation refuses it, naming the field.
        #expect(try Self.specError(#"{"command": ["echo", "a\u0000b"]}"#)?.field == "command")
        #expect(try Self.specError(#"{"command": ["x"], "cwd": "/tmp/\u0000"}"#)?.field == "cwd")
        #expect(try Self.specError(#"{"command": ["x"], "env": {"A": "\u0000"}}"#)?.field == "env")
    }

    @Test func invalidUTF8IsRefused() {
        let bytes: [UInt8] = Array(#"{"command": [""#.utf8) + [0xFF, 0xFE] + Array(#""]}"#.utf8)
        #expect(throws: WireDecodingError.self) { try WireJSON.decode(SubmitJobRequest.self, from: bytes) }
    }

    /// Error paths spell our own keys in snake_case, but a user's map keys (env names, label keys) must stay as
    /// sent: `snakeCase` turns "CUDA_HOME" into "_c_u_d_a__h_o_m_e".
    @Test func wrongTypeInsideAMapNamesTheKeyAsSent() {
        let error = Self.decodeError(#"{"command": ["x"], "env": {"CUDA_HOME": 1}}"#)
        #expect(error?.message.contains("a string") == true)
        do {
            #expect(error?.field == "env.CUDA_HOME")
        }
    }

    @Test(arguments: [
        ("gpus", #"{"command": ["x"], "gpus": 1.5}"#),
        ("gpus", #"{"command": ["x"], "gpus": 99999999999999999999999}"#),
        ("priority", #"{"command": ["x"], "priority": 1e400}"#),
        ("time_limit", #"{"command": ["x"], "time_limit": -1e30}"#),
    ])
    func fractionalOrHugeNumbersAreRefused(_ field: String, _ json: String) {
        let error = Self.decodeError(json)
        #expect(error != nil)
        // Foundation reports a number that does not fit an Int as data corruption at the top level, so the client
        // hears "invalid JSON" for valid JSON and no field is named.
        do {
            #expect(error?.field == field)
        }
    }

    @Test(arguments: [
        (#"{"command": []}"#, "command"),
        (#"{"command": [""]}"#, "command"),
        (#"{"command": ["x"], "cwd": "relative/dir"}"#, "cwd"),
        (#"{"command": ["x"], "gpus": -1}"#, "gpus"),
        (#"{"command": ["x"], "cpus": -1}"#, "cpus"),
        (#"{"command": ["x"], "gpus": 100000}"#, "gpus"),
        (#"{"command": ["x"], "env": {"CUDA_VISIBLE_DEVICES": "0"}}"#, "env"),
        (#"{"command": ["x"], "env": {"1X": "0"}}"#, "env"),
        (#"{"command": ["x"], "queue": "no such queue!"}"#, "queue"),
        (#"{"command": ["x"], "name": "a b"}"#, "name"),
        (#"{"command": ["x"], "time_limit": 0}"#, "time_limit"),
        (#"{"command": ["x"], "max_retries": 101}"#, "max_retries"),
        (#"{"command": ["x"], "priority": 20000}"#, "priority"),
        (#"{"command": ["x"], "depends_on": ["../../etc"]}"#, "depends_on"),
        (#"{"command": ["x"], "gpu_type": ""}"#, "gpu_type"),
        (#"{"command": ["x"], "image": "a b"}"#, "image"),
    ])
    func toSpecValidates(_ json: String, _ field: String) throws {
        #expect(try Self.specError(json)?.field == field)
    }

    @Test func roundTripThroughTheWire() throws {
        let specs = [
            JobSpec(command: ["true"]),
            JobSpec(
                name: "train_v1.2-final",
                command: ["bash", "-c", "echo \"héllo 🚀\" && exit 3", ""],
                cwd: "/data/ünïcode dir",
                env: ["A": "1", "EMPTY": "", "URL": "https://x/y?z=1&w=2"],
                queue: "q_1",
                resources: Resources(gpus: 8, cpus: 96, memory: (1 << 40) + 1),
                gpuType: "A100",
                image: "ghcr.io/org/img@sha256:abc",
                timeLimit: 86_400,
                maxRetries: 100,
                priority: 10_000,
                labels: ["zone": "us/east", "ib": "yes"],
                dependsOn: [JobID("aaaa"), JobID("bbbb")]
            ),
        ]
        for spec in specs {
            try spec.validate()
            let bytes = WireJSON.encode(SubmitJobRequest(spec: spec))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("gpuType") && !text.contains("maxRetries") && !text.contains("dependsOn"))
            let decoded = try WireJSON.decode(SubmitJobRequest.self, from: bytes)
            #expect(decoded == SubmitJobRequest(spec: spec))
            #expect(try decoded.toSpec() == spec)
        }
    }

    @Test func encodedKeysAreSnakeCase() throws {
        var request = SubmitJobRequest(command: ["x"])
        request.gpuType = "H100"
        request.timeLimit = 60
        request.maxRetries = 1
        request.dependsOn = ["abc"]
        request.memory = ByteCount(1024)
        let text = String(decoding: WireJSON.encode(request), as: UTF8.self)
        for key in [
            "\"gpu_type\":\"H100\"", "\"time_limit\":60", "\"max_retries\":1", "\"depends_on\":[\"abc\"]",
            "\"memory\":1024",
        ] {
            #expect(text.contains(key), "\(text)")
        }
    }
}

/// Gang and array fields of a submission.
@Suite struct GangSubmitRequestTests {
    @Test func aGangGivesItsResourcesPerNode() throws {
        let request = try SubmitJobRequestTests.decode(
            #"{"command": ["torchrun"], "nodes": 4, "gpus_per_node": 8, "cpus_per_node": 32, "memory_per_node": "256G"}"#
        )
        let spec = try request.toSpec()
        #expect(spec.nodes == 4)
        #expect(spec.resources == Resources(gpus: 8, cpus: 32, memory: 256 << 30))
        // And back: the request form of a gang uses the per-node fields only.
        let again = SubmitJobRequest(spec: spec)
        #expect(again.gpus == nil && again.gpusPerNode == 8 && again.nodes == 4)
        #expect(try again.toSpec() == spec)
    }

    @Test(arguments: [
        (#"{"command": ["x"], "nodes": 2, "gpus": 8}"#, "gpus"),
        (#"{"command": ["x"], "nodes": 2, "cpus": 8}"#, "cpus"),
        (#"{"command": ["x"], "nodes": 2, "memory": "1G"}"#, "memory"),
        (#"{"command": ["x"], "gpus": 2, "gpus_per_node": 4}"#, "gpus_per_node"),
        (#"{"command": ["x"], "nodes": 0}"#, "nodes"),
        (#"{"command": ["x"], "nodes": 100000}"#, "nodes"),
        (#"{"command": ["x"], "nodes": 2, "env": {"WORLD_SIZE": "9"}}"#, "env"),
    ])
    func refused(_ json: String, _ field: String) throws {
        let error = try SubmitJobRequestTests.specError(json)
        #expect(error?.field == field, "\(json): \(String(describing: error))")
    }

    @Test func oneNodeMayUseEitherSpellingAndTheArrayTravelsAsText() throws {
        let spec = try SubmitJobRequestTests.decode(#"{"command": ["x"], "gpus_per_node": 2, "gpus": 2}"#).toSpec()
        #expect(spec.resources.gpus == 2 && spec.nodes == 1)
        let array = try SubmitJobRequestTests.decode(#"{"command": ["x"], "array": "0-9%2"}"#)
        #expect(array.array == "0-9%2")
        #expect(SubmitJobRequestTests.decodeError(#"{"command": ["x"], "array": 5}"#) != nil)
        #expect(SubmitJobRequestTests.decodeError(#"{"command": ["x"], "nodes": 1.5}"#) != nil)
    }
}

/// A key given twice is refused, not silently resolved to its last value (issue 18, finding 6).
@Suite struct DuplicateKeyTests {
    @Test(arguments: [
        (#"{"command": ["x"], "gpus": 1, "gpus": 8}"#, "gpus"),
        (#"{"command": ["x"], "env": {"A": "1", "A": "2"}}"#, "A"),
        (#"{"command": ["x"], "g\u0070us": 1, "gpus": 8}"#, "gpus"),
        (#"{"labels": {"a": "x"}, "command": ["x"], "labels": {}}"#, "labels"),
    ])
    func refused(_ json: String, _ key: String) {
        let error = SubmitJobRequestTests.decodeError(json)
        #expect(error?.field == key && error?.message.contains("appears twice") == true, "\(String(describing: error))")
    }

    @Test func theSameKeyInDifferentObjectsOrAsAValueIsFine() throws {
        let json =
            #"{"command": ["name", "{\"name\": 1}"], "name": "name", "env": {"name": "x"}, "labels": {"name": "y"}}"#
        let request = try SubmitJobRequestTests.decode(json)
        #expect(request.name == "name" && request.env == ["name": "x"] && request.labels == ["name": "y"])
        let list = #"{"command": ["x"], "depends_on": ["a", "a"]}"#
        #expect(try SubmitJobRequestTests.decode(list).dependsOn == ["a", "a"])
    }

    /// Issue 20: `stage` entries are strict objects, and the spec's rules name the field.
    @Test func stageSources() throws {
        let spec = try SubmitJobRequestTests.decode(
            #"{"command":["x"],"stage":[{"source":"/nfs/models/llama-3"},{"source":"/nfs/d","name":"D","checksum":true}]}"#
        ).toSpec()
        #expect(
            spec.stage == [
                StageSource(source: "/nfs/models/llama-3", name: "LLAMA_3"),
                StageSource(source: "/nfs/d", name: "D", checksum: true),
            ]
        )
        #expect(
            SubmitJobRequestTests.decodeError(#"{"command":["x"],"stage":[{"source":"/a","frob":1}]}"#)?.field == "frob"
        )
        #expect(SubmitJobRequestTests.decodeError(#"{"command":["x"],"stage":[{"name":"A"}]}"#) != nil)
        #expect(SubmitJobRequestTests.decodeError(#"{"command":["x"],"stage":["/nfs/a"]}"#) != nil)
        let many = (0...StageSource.maxStages).map { #"{"source":"/nfs/s\#($0)"}"# }.joined(separator: ",")
        for body in [
            #"{"command":["x"],"stage":[{"source":"relative"}]}"#,
            #"{"command":["x"],"stage":[{"source":"/nfs/../etc"}]}"#,
            #"{"command":["x"],"stage":[{"source":"/nfs/a","name":"DIR"}]}"#,
            #"{"command":["x"],"stage":[{"source":"/nfs/a","name":"lower"}]}"#,
            #"{"command":["x"],"stage":[{"source":"/nfs/a"},{"source":"/data/a"}]}"#,
            #"{"command":["x"],"stage":[\#(many)]}"#,
        ] {
            #expect(try SubmitJobRequestTests.specError(body)?.field == "stage", "\(body)")
        }
    }
}
