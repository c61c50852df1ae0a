import Foundation
import Testing

@testable import AgentKit

@Suite struct AgentCommandTests {
    @Test func configureTakesEveryFlag() throws {
        let command = try AgentCommand.parse([
            "configure", "--endpoint", "http://c:8700", "--cluster-token", "crj_x", "--node-id", "n1",
            "--declare-gpus", "4", "--gpu-name", "H100", "--state-dir", "/var/lib/a", "--cpus", "32",
            "--memory", "64G", "--label", "rack=a1", "--config=/tmp/a.toml",
        ])
        guard case .configure(let options) = command else {
            Issue.record("expected configure, got \(command)")
            return
        }
        #expect(options.endpoint == "http://c:8700")
        #expect(options.declareGPUs == 4)
        #expect(options.memory == 64 << 30)
        #expect(options.labels == ["rack": "a1"])
        #expect(options.configPath == "/tmp/a.toml")
        #expect(options.clusterToken == "crj_x")
        let fromFile = try AgentCommand.parse(["configure", "--cluster-token-file", "/etc/corral/cluster.token"])
        guard case .configure(let fileOptions) = fromFile else {
            Issue.record("expected configure, got \(fromFile)")
            return
        }
        #expect(fileOptions.clusterTokenFile == "/etc/corral/cluster.token")
        #expect(fileOptions.clusterToken == nil)
    }

    @Test(arguments: [
        ["configure", "--declare-gpus", "-1"], ["configure", "--declare-gpus", "lots"], ["configure", "--memory", "x"],
        ["configure", "--label", "novalue"], ["configure", "--endpoint"], ["configure", "stray"], ["start", "--bogus"],
        ["frobnicate"], ["probe", "--declare-gpus", "99999"], ["configure", "--cluster-token-file"],
        ["update", "--bogus"], ["update", "--version"], ["update", "stray"],
        ["update", "--rollback", "--version", "1"],
    ])
    func badCommandLinesAreRefused(arguments: [String]) {
        #expect(throws: ConfigurationFailure.self) { try AgentCommand.parse(arguments) }
    }

    @Test func updateTakesItsFlags() throws {
        var expected = AgentCommand.UpdateOptions()
        #expect(try AgentCommand.parse(["update"]) == .update(expected))
        expected.version = "1.4.0"
        expected.restart = true
        expected.configPath = "/etc/corral/agent.toml"
        #expect(
            try AgentCommand.parse(["update", "--restart", "--version", "1.4.0", "--config", "/etc/corral/agent.toml"])
                == .update(expected)
        )
        let rollback = try AgentCommand.parse(["update", "--rollback", "--restart"])
        guard case .update(let options) = rollback else { return #expect(Bool(false)) }
        #expect(options.rollback && options.restart && options.version == nil)
    }

    /// Off this machine, plain http needs signed builds: the hash alone comes on the same channel as the binary.
    @Test(
        arguments: [
            ("http://10.0.0.1:8700", nil, false), ("http://gpu-head:8700", nil, false),
            ("http://10.0.0.1:8700", "/etc/corral/update.pub", true), ("https://10.0.0.1:8700", nil, true),
            ("http://127.0.0.1:8700", nil, true), ("http://localhost:8700", nil, true),
        ] as [(String, String?, Bool)]
    )
    func updatesOverPlainHTTPNeedAKey(endpoint: String, key: String?, allowed: Bool) {
        var configuration = AgentConfiguration()
        configuration.endpoint = endpoint
        configuration.updatePublicKey = key
        #expect(((try? AgentUpdate.checkChannel(configuration)) != nil) == allowed)
    }

    @Test func oneUpdateAtATimeBesideABinary() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try UpdateLock(beside: directory + "/corral-agent")
        #expect(throws: AgentUpdate.Failure.self) { try UpdateLock(beside: directory + "/corral-agent") }
        first.release()
        try UpdateLock(beside: directory + "/corral-agent").release()
    }

    /// The pid file, read only when the lock's holder cannot be told (`AgentLock.pidFilePID`), names a process
    /// only for a pid above 1 that is alive: a 0 read as a pid was the caller's own process group, a -1 every
    /// process it may signal, and `stop` signalled what it named.
    @Test(arguments: ["0", "-1", "1", "-42", "", "abc", "2147483648", "99999999"])
    func aPidFileNamesNoProcessUnlessItHoldsALivePidAbove1(text: String) throws {
        let configuration = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: configuration.stateDir) }
        #expect(AgentLock.pidFilePID(configuration) == nil)
        _ = FileManager.default.createFile(atPath: configuration.pidPath, contents: Data((text + "\n").utf8))
        #expect(AgentLock.pidFilePID(configuration) == nil)
        _ = FileManager.default.createFile(atPath: configuration.pidPath, contents: Data("\(getpid())\n".utf8))
        #expect(AgentLock.pidFilePID(configuration) == getpid())
    }

    /// The running agent is the holder of the state directory's lock (`/proc/locks`), whatever the pid file says:
    /// an agent killed with -9 leaves its pid file, and the kernel gives its pid to another process in time.
    @Test func theRunningAgentIsTheLocksHolderNotThePidFile() throws {
        let configuration = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: configuration.stateDir) }
        // No lock file: no agent ever ran here, though the pid file names a live process.
        _ = FileManager.default.createFile(atPath: configuration.pidPath, contents: Data("\(getppid())\n".utf8))
        #expect(AgentLock.holder(configuration) == .free)
        #expect(AgentLock.runningPID(configuration) == nil)
        do {
            let lock = try AgentLock.acquire(configuration)
            #expect(AgentLock.holder(configuration) == .process(getpid()))
            // The holder, even with the pid file naming another live process.
            _ = FileManager.default.createFile(atPath: configuration.pidPath, contents: Data("\(getppid())\n".utf8))
            #expect(AgentLock.runningPID(configuration) == getpid())
            withExtendedLifetime(lock) {}
        }
        // The lock dropped as a killed agent's is: the pid file still names this live process, and names no agent.
        _ = FileManager.default.createFile(atPath: configuration.pidPath, contents: Data("\(getpid())\n".utf8))
        #expect(AgentLock.holder(configuration) == .free)
        #expect(AgentLock.runningPID(configuration) == nil)
    }

    static func stateDirectory() throws -> AgentConfiguration {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pid-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = AgentConfiguration()
        configuration.stateDir = directory
        return configuration
    }

    @Test func noArgumentsIsHelp() throws {
        #expect(try AgentCommand.parse([]) == .help)
        #expect(try AgentCommand.parse(["--help"]) == .help)
    }
}

@Suite struct AgentConfigurationTests {
    func write(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).toml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, mode)
        return path
    }

    @Test func aRenderedConfigurationLoadsBack() throws {
        var configuration = AgentConfiguration()
        configuration.endpoint = "http://controller:8700"
        configuration.clusterToken = "crj_abc"
        configuration.nodeID = "gpu-7"
        configuration.stateDir = "/var/lib/corral-agent"
        configuration.declaredGPUs = 8
        configuration.declaredGPUName = "H100"
        configuration.memory = 1 << 40
        configuration.labels = ["rack": "a1"]
        configuration.killGrace = .seconds(45)
        configuration.nvidiaSMI = "/opt/nvidia/bin/nvidia-smi"
        configuration.docker = "/usr/bin/docker"
        configuration.registry = "registry.example.com"
        configuration.registryUsername = "bot"
        configuration.registryPasswordFile = "/etc/corral/registry.password"
        configuration.cgroupParent = "corral/gpu-7"
        configuration.allowUncontained = true
        configuration.deviceDir = "/srv/dev"
        configuration.updatePublicKey = "/etc/corral/update.pub"
        configuration.recordsDir = "/run/corral-agent"
        let path = try write(configuration.render())
        #expect(try AgentConfiguration.load(path: path, environment: [:]) == configuration)
    }

    /// Several controllers (issue 19): a comma-separated list, each an endpoint; anything else is refused.
    @Test func theEndpointMayListSeveralControllers() throws {
        let path = try write("cluster_token = \"t\"\nendpoint = \"https://ctl-a:8700, https://ctl-b:8700\"\n")
        let loaded = try AgentConfiguration.load(path: path, environment: [:])
        #expect(loaded.endpoints == ["https://ctl-a:8700", "https://ctl-b:8700"])
        for bad in ["https://ctl-a:8700,ftp://b", ",", "https://a:8700,https://b:99999"] {
            let file = try write("cluster_token = \"t\"\nendpoint = \"\(bad)\"\n")
            #expect(throws: (any Error).self) { try AgentConfiguration.load(path: file, environment: [:]) }
        }
    }

    @Test func registryCredentialsComeFromTheEnvironmentToo() throws {
        let path = try write("cluster_token = \"t\"\n[containers]\ndocker = \"docker\"\n")
        let loaded = try AgentConfiguration.load(
            path: path,
            environment: [
                "CORRAL_REGISTRY_SERVER": "ghcr.io", "CORRAL_REGISTRY_USERNAME": "ci", "CORRAL_REGISTRY_PASSWORD": "pw",
            ]
        )
        #expect(loaded.registry == "ghcr.io" && loaded.registryUsername == "ci" && loaded.registryPassword == "pw")
        // The password from the environment is never written to the file.
        #expect(!loaded.render().contains("pw"))
    }

    @Test func environmentOverridesTheFile() throws {
        let path = try write("endpoint = \"http://a:1\"\ncluster_token = \"t\"\nnode_id = \"n\"\n")
        let loaded = try AgentConfiguration.load(
            path: path,
            environment: ["CORRAL_ENDPOINT": "http://b:2", "CORRAL_CLUSTER_TOKEN": "u", "CORRAL_NODE_ID": "m"]
        )
        #expect(loaded.endpoint == "http://b:2")
        #expect(loaded.clusterToken == "u")
        #expect(loaded.nodeID == "m")
    }

    @Test(arguments: [
        ("cluster_token = \"t\"\nendpoint = \"ftp://x\"\n", "http"),
        ("endpoint = \"http://a:1\"\n", "cluster token"),
        ("cluster_token = \"t\"\nbogus = 1\n", "unknown setting 'bogus'"),
        ("cluster_token = \"t\"\ncpus = \"many\"\n", "cpus"),
        ("cluster_token = \"t\"\nnode_id = \"bad id!\"\n", "node id"),
        ("cluster_token = \"t\"\n[gpus]\ncount = 5000\n", "1024"),
        ("cluster_token = \"t\"\nmemory = \"lots\"\n", "memory"),
        ("cluster_token = = \"t\"\n", "line 1"),
        ("cluster_token = \"t\"\ncontainers = \"docker\"\n", "[containers] must be a table"),
        ("cluster_token = \"t\"\nkill_grace_seconds = 10000000000\n", "kill_grace_seconds must be at most 3600"),
        ("cluster_token = \"t\"\nkill_grace_seconds = -1\n", "kill_grace_seconds"),
        ("cluster_token = \"t\"\n[isolation]\ncgroup_parent = \"../escape\"\n", "cgroup_parent"),
        ("cluster_token = \"t\"\n[isolation]\ncgroup_parent = \"/abs\"\n", "cgroup_parent"),
        ("cluster_token = \"t\"\n[isolation]\ncgroup_parent = \"a b\"\n", "cgroup_parent"),
        ("cluster_token = \"t\"\n[isolation]\nallow_uncontained = \"yes\"\n", "allow_uncontained"),
        ("cluster_token = \"t\"\n[isolation]\ndevice_dir = \"dev\"\n", "device_dir"),
        ("cluster_token = \"t\"\nupdate_public_key = \"update.pub\"\n", "update_public_key must be the absolute path"),
        ("cluster_token = \"t\"\nrecords_dir = \"run\"\n", "records_dir must be an absolute path"),
        (
            "cluster_token = \"t\"\n[stage]\ncache_dir = \"/c\"\ncache_size = \"1G\"\nroots = [\"/a,b\"]\n",
            "roots must be"
        ),
        ("cluster_token = \"t\"\n[stage]\ncache_size = \"1G\"\n", "[stage] needs cache_dir"),
        ("cluster_token = \"t\"\n[stage]\ncache_dir = \"/c\"\n", "[stage] needs cache_size"),
        ("cluster_token = \"t\"\n[isolation]\ncgroups = 1\n", "[isolation] cgroups"),
        ("cluster_token = \"t\"\nisolation = 1\n", "[isolation] must be a table"),
        ("cluster_token = \"t\"\nkill_grace_seconds = \"10s\"\n", "kill_grace_seconds"),
        ("cluster_token = \"t\"\n[containers]\nengine = \"podman\"\n", "unknown setting 'engine' in [containers]"),
        ("cluster_token = \"t\"\n[containers]\ndocker = \"\"\n", "non-empty string"),
        ("cluster_token = \"t\"\n[containers]\ndocker = 1\n", "non-empty string"),
        ("cluster_token = \"t\"\n[containers]\nregistry = \"r.io\"\n", "docker is not"),
        ("cluster_token = \"t\"\n[containers]\ndocker = \"d\"\nregistry = \"r.io\"\n", "username and a password"),
    ])
    func badFilesAreRefusedWithTheReason(text: String, expected: String) throws {
        let path = try write(text)
        do {
            _ = try AgentConfiguration.load(path: path, environment: [:])
            Issue.record("\(text) should be refused")
        } catch {
            #expect(error.message.contains(expected), "'\(error.message)' should mention \(expected)")
        }
    }

    @Test func aFileOthersCanReadIsRefused() throws {
        let path = try write("cluster_token = \"t\"\n", mode: 0o644)
        do {
            _ = try AgentConfiguration.load(path: path, environment: [:])
            Issue.record("a world-readable file holding the join token must be refused")
        } catch {
            #expect(error.message.contains("chmod 600"))
        }
    }

    @Test func aMissingFileSaysHowToCreateIt() {
        do {
            _ = try AgentConfiguration.load(path: "/nonexistent/agent.toml", environment: [:])
            Issue.record("missing file must fail")
        } catch {
            #expect(error.message.contains("corral-agent configure"))
        }
    }
}
