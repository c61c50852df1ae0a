import CorralSupport
import Glibc

/// exit.json on a full disk (issue 18). A supervisor that ends without it has its job reported killed by
/// SIGKILL, its exit code lost, so the room for it is taken before the job starts (`exit.reserve`, blocks
/// really written, not a sparse file) and the record is written into that room: overwriting blocks a file
/// already has, and renaming it within its directory, need no free space.
extension JobRecord {
    /// What the reserve holds: enough for any exit record (`SupervisorExit.fitting` cuts a long launch error).
    static let exitReserveBytes = 4096

    var exitReservePath: String { directory + "/exit.reserve" }

    /// The supervisor's first act before the job starts; nil once the room is taken, else why not.
    func reserveExitRoom() -> String? {
        let spaces = [UInt8](repeating: UInt8(ascii: " "), count: Self.exitReserveBytes)
        guard Self.overwrite(exitReservePath, with: spaces, flags: O_CREAT | O_TRUNC) else {
            let reason = String(validatingCString: strerror(errno)) ?? "errno \(errno)"
            unlink(exitReservePath)
            return "cannot reserve room for exit.json in \(directory): \(reason)"
        }
        return nil
    }

    /// Writes exit.json, through the reserve where there is one. Never gives up while the record is there:
    /// when even that fails it says why on stderr (supervisor.log) and tries again every second, alive, so the
    /// agent keeps seeing a job whose supervisor runs rather than one whose supervisor died.
    func write(_ exit: SupervisorExit) {
        let text = Self.encode(exit.fitting(Self.exitReserveBytes))
        var failures = 0
        while let failure = writeExit(text) {
            guard Files.isDirectory(directory) else { return }  // the record is gone: nobody left to tell
            if failures % 60 == 0 {
                FileHandleOutput.stderr("corral-agent supervise: \(failure); trying again every second\n")
            }
            failures += 1
            sleep(1)
        }
    }

    /// Nil once exit.json is there, else why not.
    private func writeExit(_ text: String) -> String? {
        // JSON allows the reserve's trailing spaces, so a failed shrink is harmless.
        if Self.overwrite(exitReservePath, with: Array(text.utf8), flags: 0, shrink: true),
            rename(exitReservePath, exitPath) == 0
        {
            return nil
        }
        do {
            try Files.writeAtomically(exitPath, text, durable: false)
            return nil
        } catch {
            return error.message
        }
    }

    /// Writes the bytes at the file's start, in place, and (with `shrink`) cuts it to their length.
    private static func overwrite(_ path: String, with bytes: [UInt8], flags: Int32, shrink: Bool = false) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count else { return false }
        if shrink { _ = ftruncate(fd, off_t(bytes.count)) }
        return true
    }
}

extension SupervisorExit {
    /// The record, its launch error cut (marked with "…") until its JSON fits in `bytes`.
    func fitting(_ bytes: Int) -> SupervisorExit {
        guard let error = launchError else { return self }
        var exit = self
        var keep = error.count
        while JobRecord.encode(exit).utf8.count > bytes && keep > 0 {
            keep = keep * 3 / 4
            exit.launchError = String(error.prefix(keep)) + "…"
        }
        return exit
    }
}
