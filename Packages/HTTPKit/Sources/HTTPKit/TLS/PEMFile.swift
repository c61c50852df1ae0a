internal import COpenSSL
internal import Glibc

/// PEM encoding through a memory BIO, and writing files with an exact mode (keys 0600).
enum PEMFile {
    static func encode(
        _ what: String,
        _ body: (OpaquePointer) -> Int32
    ) throws(DevelopmentCertificatesError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw DevelopmentCertificatesError(message: "cannot PEM-encode the \(what): BIO_new failed")
        }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else {
            throw DevelopmentCertificatesError(message: "cannot PEM-encode the \(what): \(OpenSSLErrors.drain())")
        }
        var data: UnsafeMutablePointer<CChar>?
        let count = copenssl_bio_mem_data(bio, &data)
        guard count > 0, let data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: count))
    }

    /// Writes `bytes` to `path` with permissions exactly `mode` (also when the file existed before), through
    /// a temporary file renamed into place, so a reader never sees a partial file.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(DevelopmentCertificatesError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("write", temporary) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                Glibc.close(fd)
                unlink(temporary)
                throw error
            }
            offset += written
        }
        guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            let error = failure("write", temporary)
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        Glibc.close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("write", path)
            unlink(temporary)
            throw error
        }
    }

    /// mkdir -p with mode 0700 for directories it creates.
    static func makeDirectory(_ path: String) throws(DevelopmentCertificatesError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw failure("create directory", prefix) }
        }
    }

    private static func failure(_ action: String, _ path: String) -> DevelopmentCertificatesError {
        DevelopmentCertificatesError(message: "cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
