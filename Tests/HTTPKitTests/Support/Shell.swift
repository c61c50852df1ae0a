import Foundation
import Glibc

/// Runs `command` through /bin/sh (stderr merged into stdout) and returns its exit status and output.
/// Blocking: call it through `offPool`.
func shell(_ command: String) -> (status: Int32, output: String) {
    guard let pipe = popen(command + " 2>&1", "r") else { return (-1, "popen failed") }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, pipe)
        if count <= 0 { break }
        output.append(contentsOf: buffer[0..<count])
    }
    let status = pclose(pipe)
    return ((status >> 8) & 0xFF, String(decoding: output, as: UTF8.self))
}

/// A fresh private directory under /tmp.
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/httpkit-tests-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { throw TestFailure("mkdtemp: errno \(errno)") }
    return String(cString: path)
}

/// Removes a test directory without spawning a process (this may run on the test runner's own threads).
func removeDirectory(_ path: String) {
    guard path.hasPrefix("/tmp/httpkit-tests-") else { return }
    try? FileManager.default.removeItem(atPath: path)
}
