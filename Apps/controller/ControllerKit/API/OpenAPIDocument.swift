/// The OpenAPI 3.1 document of the API (docs/openapi.json), served at `GET /v1/openapi.json`. Its parts are
/// generated into `OpenAPIDocument+*.swift` by `just openapi`; `OpenAPITests` checks the whole equals the file.
enum OpenAPIDocument {
    static let json =
        "{" + head + #","paths":{"# + userPaths + "," + jobPaths + "," + agentPaths + #"},"components":{"#
        + sharedComponents
        + #","schemas":{"# + schemas + "," + moreSchemas + "}}}"
}
