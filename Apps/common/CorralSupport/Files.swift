public import Glibc

/// File helpers for config and secret files: atomic writes with a given mode, and a refusal to read secrets
/// that others can read.
public enum Files {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        public init(_ message: String) { self.message = message }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func read(_ path: String, limit: Int = 4 * 1024 * 1024) throws(Failure) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot read \(path): \(errorText())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure("cannot read \(path): \(errorText())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw Failure("\(path) is larger than \(limit) bytes") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's size in bytes, 0 when it does not exist.
    public static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Up to `limit` bytes from `offset` (for logs shipped and served by offset); [] past the end or on error.
    public static func read(_ path: String, from offset: Int, limit: Int, size knownSize: Int? = nil) -> [UInt8] {
        let size = knownSize ?? Files.size(path)
        guard size > offset, limit > 0 else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: min(limit, size - offset))
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    /// Reads a file holding a secret, refusing it when group or others may read it (as ssh does).
    public static func readSecret(_ path: String) throws(Failure) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure("cannot read \(path): \(errorText())") }
        if info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw Failure("\(path) holds a secret but is readable by others (mode \(mode)): run chmod 600 \(path)")
        }
        return try read(path)
    }

    /// A secret given where an argument would show it to everyone's `ps`: "-" reads one line from standard
    /// input (with echo off on a terminal), anything else names a file that only its owner may read.
    /// Surrounding whitespace is trimmed; an empty secret, or one of more than one line, is refused.
    public static func secret(from source: String, prompt: String) throws(Failure) -> String {
        let text = source == "-" ? try standardInputLine(prompt: prompt) : try readSecret(source)
        let secret = text.trimmingWhitespace()
        let origin = source == "-" ? "standard input" : source
        guard !secret.isEmpty else { throw Failure("no secret on \(origin): it is empty") }
        guard !secret.contains(where: \.isWhitespace), secret.utf8.count <= 4096 else {
            throw Failure("the secret on \(origin) is not one token (it holds spaces, more lines or over 4 KiB)")
        }
        return secret
    }

    /// A secret given on a command line in one of three forms: `--flag VALUE` (visible in ps), `--flag -`
    /// (stdin) or `--flag-file FILE`. Nil when neither flag was given; both at once is refused.
    public static func secretArgument(
        _ value: String?,
        file: String?,
        flags: (value: String, file: String),
        prompt: String
    ) throws(Failure) -> String? {
        if value != nil, file != nil { throw Failure("give \(flags.value) or \(flags.file), not both") }
        if let source = file ?? (value == "-" ? "-" : nil) { return try secret(from: source, prompt: prompt) }
        return value
    }

    /// One line from standard input, at most 64 KiB, read without buffering (so questions asked one after
    /// another each get their own line); on a terminal it asks on stderr and, unless `echo`, hides the answer.
    public static func standardInputLine(prompt: String, echo: Bool = false) throws(Failure) -> String {
        var saved = termios()
        let terminal = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved) == 0
        if terminal {
            if !echo {
                var quiet = saved
                quiet.c_lflag &= ~tcflag_t(ECHO)
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
            }
            _ = prompt.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        }
        defer {
            if terminal, !echo {
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                _ = write(STDERR_FILENO, "\n", 1)
            }
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count <= 65536 {
            let count = Glibc.read(STDIN_FILENO, &byte, 1)
            if count < 0, errno == EINTR { continue }
            if count < 0 { throw Failure("cannot read standard input: \(errorText())") }
            if count == 0 || byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        guard bytes.count <= 65536 else { throw Failure("standard input holds more than 64 KiB before a newline") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes through a temporary file and rename, so readers never see half a file; the mode is set before
    /// any byte is written. `durable: false` skips the fsync, for files that only need to survive a process
    /// (not a machine) going down: the agent's job records, which a reboot makes void anyway.
    public static func writeAtomically(
        _ path: String,
        _ text: String,
        mode: mode_t = 0o600,
        durable: Bool = true
    ) throws(Failure) {
        try writeAtomically(path, bytes: Array(text.utf8), mode: mode, durable: durable)
    }

    /// `writeAtomically` of bytes. Durable, it also syncs the directory, so the rename survives a crash too.
    public static func writeAtomically(
        _ path: String,
        bytes: [UInt8],
        mode: mode_t = 0o600,
        durable: Bool = true
    ) throws(Failure) {
        let directory = parent(of: path)
        try makeDirectories(directory, mode: 0o700)
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure("cannot write \(path): \(errorText())") }
        fchmod(fd, mode)
        var bytes = bytes
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let message = errorText()
                close(fd)
                unlink(temporary)
                throw Failure("cannot write \(path): \(message)")
            }
            offset += written
        }
        // A full disk can show only at the sync (delayed allocation): a durable write that did not reach the disk
        // is an error, not a rename of half a file.
        if durable && fsync(fd) != 0 {
            let message = errorText()
            close(fd)
            unlink(temporary)
            throw Failure("cannot write \(path): \(message)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = errorText()
            unlink(temporary)
            throw Failure("cannot write \(path): \(message)")
        }
        if durable { syncDirectory(directory) }
    }

    /// The target of a symbolic link (as readlink(2) gives it), or nil when the path is not one.
    public static func linkTarget(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                readlink(path, $0, pointer.count - 1)
            }
        }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// fsync of a directory, so that names made or renamed in it survive a crash of the machine.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// The whole file, refusing one over `limit` bytes.
    public static func readBytes(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot read \(path): \(errorText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure("cannot read \(path): \(errorText())") }
        guard Int(info.st_size) <= limit else {
            throw Failure("\(path) is larger than \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw Failure("cannot read \(path): \(count < 0 ? errorText() : "it shrank while read")")
            }
            offset += count
        }
        return bytes
    }

    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(Failure) {
        guard !path.isEmpty, !isDirectory(path) else { return }
        try makeDirectories(parent(of: path), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw Failure("cannot create directory \(path): \(errorText())")
        }
    }

    /// The names in a directory (not `.` and `..`), or [] when it cannot be read.
    public static func list(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The user's home directory: $HOME, else the password database.
    public static func home() -> String {
        if let home = getenv("HOME"), let text = String(validatingCString: home), !text.isEmpty { return text }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir, let text = String(validatingCString: dir) {
            return text
        }
        return "/"
    }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return buffer.withUnsafeBufferPointer { String(validatingCString: $0.baseAddress!) } ?? "/"
    }

    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name), let text = String(validatingCString: value) else { return nil }
        return text.isEmpty ? nil : text
    }

    static func errorText() -> String { String(validatingCString: strerror(errno)) ?? "errno \(errno)" }
}

extension String {
    /// Without leading and trailing whitespace and newlines.
    public func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
