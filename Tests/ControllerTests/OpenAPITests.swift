import ClusterCore
import ClusterWire
import Foundation
import HTTPKit
import Testing

@testable import ControllerKit

/// The OpenAPI 3.1 document (docs/openapi.json, served at GET /v1/openapi.json) against the code: the same
/// routes as the router, every reference resolving, and the schemas of the main wire types matching what the
/// encoder sends, so the document cannot drift from the API unnoticed.
@Suite struct OpenAPITests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static var served: [String: Any] { (try? object(OpenAPIDocument.json)) ?? [:] }

    static func schema(_ name: String) -> [String: Any] {
        ((served["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    }

    static func properties(_ name: String) -> Set<String> {
        Set((schema(name)["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
    }

    @Test func theServedDocumentIsTheOneInDocsAndItIsOpenAPI31() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
        let onDisk = try Self.object(try String(contentsOf: file, encoding: .utf8))
        #expect(
            NSDictionary(dictionary: onDisk).isEqual(to: Self.served),
            "docs/openapi.json changed: run just openapi"
        )
        #expect(Self.served["openapi"] as? String == "3.1.0")
        // The route serves it, to anyone.
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        guard case .found(let handler, _) = fixture.api.router().match(.get, "/v1/openapi.json") else {
            Issue.record("GET /v1/openapi.json is not routed")
            return
        }
        let response = try await handler(HTTPRequest(method: .get, path: "/v1/openapi.json"))
        #expect(response.status == .ok)
        let body = try Self.object(String(decoding: response.body, as: UTF8.self))
        #expect(NSDictionary(dictionary: body).isEqual(to: Self.served))
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        var documented: Set<String> = []
        var operations: [String] = []
        for (path, item) in Self.served["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in item as? [String: Any] ?? [:]
            where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
                let operation = operation as? [String: Any] ?? [:]
                operations.append(operation["operationId"] as? String ?? "")
                #expect(operation["responses"] != nil && operation["x-corral-role"] != nil, "\(method) \(path)")
            }
        }
        let routed = Set(fixture.api.router().routes)
        #expect(documented.subtracting(routed).isEmpty, "documented, not routed: \(documented.subtracting(routed))")
        #expect(routed.subtracting(documented).isEmpty, "routed, not documented: \(routed.subtracting(documented))")
        #expect(Set(operations).count == operations.count && !operations.contains(""), "operationIds must be unique")
    }

    @Test func everyReferenceResolves() {
        var references: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(Self.served)
        #expect(references.count > 50)
        let components = Self.served["components"] as? [String: Any] ?? [:]
        for reference in Set(references) {
            // "#/components/KIND/NAME"
            let parts = reference.split(separator: "/").map(String.init)
            let target = parts.count == 4 ? (components[parts[2]] as? [String: Any])?[parts[3]] : nil
            #expect(parts.first == "#" && parts.count == 4 && target != nil, "\(reference) resolves to nothing")
        }
    }

    /// What the encoder sends for a job (with an attempt, a preemption and an exit) is what the schema
    /// declares: no field it does not know, every field it requires.
    @Test func theSchemasOfTheMainTypesMatchTheEncoder() throws {
        var job = Job(
            id: JobID("k3xq9mz2ab"),
            spec: JobSpec(name: "train", command: ["x"], resources: Resources(gpus: 1, cpus: 1, memory: 1 << 30)),
            user: "alice",
            submittedAt: .zero
        )
        job.state = .failed
        var attempt = Attempt(number: 1, node: NodeID("n1"), gpuIndices: [0], resources: .zero, allocatedAt: .zero)
        attempt.startedAt = .zero
        attempt.endedAt = Timestamp(milliseconds: 5000)
        attempt.exit = JobExit(code: 3)
        job.attempts = [attempt]
        let encoded = try Self.object(String(decoding: WireJSON.encode(JobView(job)), as: UTF8.self))
        let declared = Self.properties("JobView")
        #expect(
            Set(encoded.keys).subtracting(declared).isEmpty,
            "undocumented: \(Set(encoded.keys).subtracting(declared))"
        )
        let required = Set(Self.schema("JobView")["required"] as? [String] ?? [])
        #expect(
            required.subtracting(encoded.keys).isEmpty,
            "required but not sent: \(required.subtracting(encoded.keys))"
        )
        let attemptKeys = Set(((encoded["attempts"] as? [[String: Any]])?.first ?? [:]).keys)
        #expect(attemptKeys.subtracting(Self.properties("AttemptView")).isEmpty)
        // The submit request: exactly the fields the decoder takes, which refuses any other.
        func snake(_ name: String) -> String {
            name.reduce(into: "") { text, character in
                text += character.isUppercase ? "_" + character.lowercased() : String(character)
            }
        }
        #expect(Self.properties("SubmitJobRequest") == Set(SubmitJobRequest.fieldNames.map(snake)))
        #expect(Self.schema("SubmitJobRequest")["additionalProperties"] as? Bool == false)
    }
}
