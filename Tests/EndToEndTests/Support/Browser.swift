import Foundation
import Glibc

/// A real headless Chromium, driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: the
/// browser reads commands on its descriptor 3 and writes answers and events on 4, each a JSON text ended by a
/// NUL byte). No port, no websocket, no third-party client. One page (a target of its own, attached in flat
/// mode) takes the commands; its JavaScript exceptions and console errors (Content-Security-Policy violations
/// among them) are collected in `problems`.
final class Browser: @unchecked Sendable {
    // @unchecked Sendable: one test drives it, one command at a time, each on a thread of its own (offPool),
    // never two at once.
    let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private var buffer: [UInt8] = []
    private var lastID = 0
    private var session: String?
    private(set) var problems: [String] = []

    static var executable: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts Chromium with a profile directory of its own and its output in `log`, and opens a blank page.
    init(profile: String, log: String, width: Int = 1280, height: Int = 1000) async throws {
        guard let path = Self.executable else {
            throw TestFailure("no Chromium found: `./bootstrap qa` installs the chromium package")
        }
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw TestFailure("pipe: \(errno)") }
        // Copies at 10 and up, close-on-exec: the child's 3 and 4 are then always made by a real dup2, and no
        // other process this test run starts inherits the pipes.
        func high(_ fd: Int32) -> Int32 {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            close(fd)
            return copy
        }
        let browserReads = high(toBrowser[0])
        commands = high(toBrowser[1])
        answers = high(fromBrowser[0])
        let browserWrites = high(fromBrowser[1])
        defer {
            close(browserReads)
            close(browserWrites)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, browserReads, 3)
        posix_spawn_file_actions_adddup2(&actions, browserWrites, 4)
        let arguments =
            [
                path, "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--disable-component-update", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-pipe", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
            ] + (getuid() == 0 ? ["--no-sandbox"] : []) + ["about:blank"]
        let argv = arguments.map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + environment { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, nil, argv, environment)
        guard spawned == 0 else { throw TestFailure("posix_spawn \(path): \(spawned)") }
        pid = child
        let version = try await call("Browser.getVersion", browserLevel: true)
        guard version["product"] is String else { throw TestFailure("Chromium did not answer: \(version)") }
        let target = try await call("Target.createTarget", ["url": "about:blank"], browserLevel: true)
        let attached = try await call(
            "Target.attachToTarget",
            ["targetId": target["targetId"] as? String ?? "", "flatten": true],
            browserLevel: true
        )
        session = attached["sessionId"] as? String
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] { _ = try await call(domain) }
    }

    deinit {
        close(commands)
        close(answers)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Sends a command (to the page unless `browserLevel`) and returns its result, recording the events that
    /// come before the answer.
    @discardableResult
    func call(
        _ method: String,
        _ parameters: [String: any Sendable] = [:],
        browserLevel: Bool = false,
        timeout: Double = 20
    ) async throws -> [String: Any] {
        lastID += 1
        var message: [String: Any] = ["id": lastID, "method": method, "params": parameters]
        if !browserLevel, let session { message["sessionId"] = session }
        let text = try JSONSerialization.data(withJSONObject: message)
        let id = lastID
        let answer = try await offPool {
            try self.exchange(Array(text) + [0], id: id, method: method, timeout: timeout)
        }
        let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any] ?? [:]
        if let error = object["error"] { throw TestFailure("\(method): \(error)") }
        return object["result"] as? [String: Any] ?? [:]
    }

    /// Blocking: writes the command, then reads messages until the one answering `id`.
    private func exchange(_ bytes: [UInt8], id: Int, method: String, timeout: Double) throws -> Data {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestFailure("writing to Chromium failed (errno \(errno)): did it exit?") }
            sent += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            while let end = buffer.firstIndex(of: 0) {
                let message = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                let object = (try? JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
                if object["id"] as? Int == id { return message }
                record(object)
            }
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var poller = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, left) > 0 else { throw TestFailure("Chromium did not answer \(method) in time") }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestFailure("Chromium closed the pipe during \(method)") }
            buffer += chunk[..<n]
        }
    }

    private func record(_ event: [String: Any]) {
        let parameters = event["params"] as? [String: Any] ?? [:]
        switch event["method"] as? String {
        case "Runtime.exceptionThrown":
            let details = parameters["exceptionDetails"] as? [String: Any] ?? [:]
            let exception = details["exception"] as? [String: Any] ?? [:]
            problems.append("exception: \(exception["description"] ?? details["text"] ?? "?")")
        case "Log.entryAdded":
            let entry = parameters["entry"] as? [String: Any] ?? [:]
            let text = entry["text"] as? String ?? ""
            // A refused request is the page's business (404 is an answer it expects); anything else is not.
            if entry["level"] as? String == "error", entry["source"] as? String != "network" {
                problems.append("console: \(text)")
            }
        case "Runtime.consoleAPICalled" where parameters["type"] as? String == "error":
            problems.append("console.error: \(parameters["args"] ?? "")")
        default: break
        }
    }

    /// The value of a JavaScript expression (awaited if a promise), as JSON would carry it.
    func evaluate(_ expression: String) async throws -> Any? {
        let result = try await call(
            "Runtime.evaluate",
            ["expression": expression, "returnByValue": true, "awaitPromise": true]
        )
        if let details = result["exceptionDetails"] as? [String: Any] {
            let exception = details["exception"] as? [String: Any] ?? [:]
            throw TestFailure("\(expression): \(exception["description"] ?? details["text"] ?? "exception")")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    func string(_ expression: String) async throws -> String { try await evaluate(expression) as? String ?? "" }

    /// Rows of a table body as the texts of their cells.
    func rows(_ tbody: String) async throws -> [[String]] {
        let rows = try await evaluate(
            "[...document.getElementById('\(tbody)').rows].map((r) => [...r.cells].map((c) => c.textContent.trim()))"
        )
        return rows as? [[String]] ?? []
    }

    /// Of the elements with these ids, those not hidden, in the same order.
    func visible(_ ids: [String]) async throws -> [String] {
        let list = ids.map { "'\($0)'" }.joined(separator: ", ")
        return try await evaluate("[\(list)].filter((id) => !document.getElementById(id).hidden)") as? [String] ?? []
    }

    func open(_ url: String) async throws {
        try await call("Page.navigate", ["url": url])
        try await waitFor("\(url) loads", "document.readyState === 'complete'")
    }

    /// Polls a JavaScript condition every 100 ms until it is true (30 s at most by default: the page's data comes
    /// from daemons that answer slowly on a loaded machine).
    func waitFor(_ what: String, _ condition: String, timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await evaluate("Boolean(\(condition))") as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out after \(timeout)s waiting until \(what) (\(condition))")
    }

    /// A real mouse click in the middle of the element the selector finds.
    func click(_ selector: String) async throws {
        let box = try await evaluate(
            """
            (() => { const e = document.querySelector(\(Self.quoted(selector))); if (!e) return null;
              e.scrollIntoView({ block: "center" }); const r = e.getBoundingClientRect();
              return [r.x + r.width / 2, r.y + r.height / 2, r.width, r.height]; })()
            """
        )
        guard let box = box as? [Double], box[2] > 0, box[3] > 0 else {
            throw TestFailure("no visible element \(selector) to click")
        }
        for type in ["mousePressed", "mouseReleased"] {
            try await call(
                "Input.dispatchMouseEvent",
                ["type": type, "x": box[0], "y": box[1], "button": "left", "clickCount": 1]
            )
        }
    }

    /// A key pressed and released, as the keyboard would: Enter, Tab (with Shift if asked), Escape.
    func press(_ key: String, shift: Bool = false) async throws {
        let codes = ["Enter": 13, "Tab": 9, "Escape": 27]
        var down: [String: any Sendable] = [
            "type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": codes[key] ?? 0,
            "modifiers": shift ? 8 : 0,
        ]
        if key == "Enter" { down["text"] = "\r" }
        try await call("Input.dispatchKeyEvent", down)
        try await call(
            "Input.dispatchKeyEvent",
            [
                "type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": codes[key] ?? 0,
                "modifiers": shift ? 8 : 0,
            ]
        )
    }

    /// Text typed into the focused element.
    func type(_ text: String) async throws { try await call("Input.insertText", ["text": text]) }

    /// A PNG of the page as shown, written to `path`.
    func screenshot(_ path: String) async throws -> Data {
        let shot = try await call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        let data = Data(base64Encoded: shot["data"] as? String ?? "") ?? Data()
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    static func quoted(_ text: String) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8), as: UTF8.self)
            .dropFirst().dropLast().description
    }
}
