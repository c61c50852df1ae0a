import Foundation
import Glibc
import Testing

/// Paths of the fixtures copied into the test bundle (`resources: [.copy("Fixtures")]`).
enum Fixture {
    static let directory: String = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("Fixtures missing from the test bundle")
        }
        return url.path
    }()

    static func path(_ relative: String) -> String {
        directory + "/" + relative
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    static func root(_ name: String) -> String {
        path("roots/" + name)
    }
}
