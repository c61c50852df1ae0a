import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import HTTPKit

/// Agent self-update (issue 20): the builds published with `corral-controller agents publish`, for agents
/// (their node token, or the join token for `corral-agent update` on a node not yet registered) and admins.
extension API {
    func addAgentBuildRoutes(to router: inout Router) {
        router.add(.get, "/v1/agent-builds") { request in
            try buildReader(request)
            var builds = agentBuilds.list()
            if let arch = request.query["arch"] {
                guard AgentBuild.architectures.contains(arch) else {
                    throw APIError.badRequest(
                        "must be one of \(AgentBuild.architectures.joined(separator: ", "))",
                        field: "arch"
                    )
                }
                builds = builds.filter { $0.arch == arch }
            }
            if let version = request.query["version"] {
                guard AgentBuild.isValidVersion(version) else {
                    throw APIError.badRequest("is not a version (such as 1.4.0)", field: "version")
                }
                builds = builds.filter { $0.version == version }
            }
            return .json(WireJSON.encode(AgentBuildList(builds: builds)))
        }
        router.add(.get, "/v1/agent-builds/{sha256}") { request in
            try buildReader(request)
            let sha = parameter(request, "sha256")
            guard AgentBuild.isSHA256(sha) else {
                throw APIError.badRequest("must be a SHA-256 as 64 lowercase hex digits", field: "sha256")
            }
            guard let build = agentBuilds.build(sha256: sha) else {
                throw APIError(.notFound, "unknown_build", "no agent build with SHA-256 \(sha) is published")
            }
            do {
                try await agentBuilds.prepare(build)
            } catch {
                throw APIError(.internalServerError, "build_unreadable", "cannot serve the build: \(error)")
            }
            let path = agentBuilds.binaryPath(of: build)
            guard Files.exists(path) else {
                throw APIError(.internalServerError, "build_unreadable", "cannot read the build: \(path) is gone")
            }
            // Streamed a MiB at a time: a rollout's agents downloading at once cost the controller little memory.
            let headers = HTTPHeaders([
                ("Content-Type", "application/octet-stream"), ("X-Corral-Build-Version", build.version),
            ])
            return HTTPResponse.stream(status: .ok, headers: headers) { body in
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw APIError(.internalServerError, "build_unreadable", "cannot open \(path)") }
                defer { close(fd) }
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count >= 0 else {
                        throw APIError(.internalServerError, "build_unreadable", "cannot read \(path)")
                    }
                    if count == 0 { return }
                    try await body.write(Array(chunk[0..<count]))
                }
            }
        }
    }

    /// The rolling update: start (admin), look (any user), abort (admin).
    func addRolloutRoutes(to router: inout Router) {
        router.add(.post, "/v1/agent-rollout") { request in
            let principal = try admin(request, "update the agents")
            let body = request.body.isEmpty ? RolloutRequest() : try decode(RolloutRequest.self, request)
            let view = try await rollouts.start(body, by: principal.subject)
            return .json(WireJSON.encode(view), status: .created)
        }
        router.add(.get, "/v1/agent-rollout") { request in
            _ = try user(request)
            guard let view = await rollouts.view() else {
                throw APIError(.notFound, "no_rollout", "no agent rollout has run (corral nodes update starts one)")
            }
            return .json(WireJSON.encode(view))
        }
        router.add(.post, "/v1/agent-rollout/abort") { request in
            let principal = try admin(request, "abort agent updates")
            return .json(WireJSON.encode(try await rollouts.abort(by: principal.subject)))
        }
    }

    var agentBuilds: AgentBuildStore { rollouts.store }

    /// Agents (node or join token) and admins may read the builds; users may not (nothing of theirs is there).
    func buildReader(_ request: HTTPRequest) throws(APIError) {
        guard let principal = credentials.authenticate(request.bearerToken) else { throw .unauthorized }
        switch principal.kind {
        case .node: try checkCertificate(request, node: principal.subject)
        case .cluster: break
        default: guard principal.isAdmin else { throw .forbidden("only agents and admins read agent builds") }
        }
    }

    /// Each node's version as the published version of the build it runs, where the controller has that build.
    func withPublishedVersions(_ views: [NodeView]) -> [NodeView] {
        let versions = Dictionary(agentBuilds.list().map { ($0.sha256, $0.version) }) { first, _ in first }
        return views.map { view in
            var view = view
            if let build = view.agentBuild, let version = versions[build] { view.agentVersion = version }
            return view
        }
    }
}
