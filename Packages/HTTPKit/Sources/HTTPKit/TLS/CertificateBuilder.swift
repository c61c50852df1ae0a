internal import COpenSSL
internal import Glibc

/// A key pair and its certificate while `DevelopmentCertificates` builds them (OpenSSL objects; call `free`).
struct IssuedCertificate {
    let key: OpaquePointer
    let certificate: OpaquePointer

    func free() {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    func keyPEM() throws(DevelopmentCertificatesError) -> [UInt8] {
        try PEMFile.encode("private key") { bio in PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) }
    }

    func certificatePEM() throws(DevelopmentCertificatesError) -> [UInt8] {
        try PEMFile.encode("certificate") { bio in PEM_write_bio_X509(bio, certificate) }
    }
}

/// X509 construction with OpenSSL's API: P-256 keys, random serials, v3 extensions, SHA-256 signatures.
enum CertificateBuilder {
    static func makeCA(commonName: String, validityDays: Int) throws(DevelopmentCertificatesError) -> IssuedCertificate
    {
        let issued = try makeUnsigned(commonName: commonName, validityDays: validityDays)
        do throws(DevelopmentCertificatesError) {
            _ = X509_set_issuer_name(issued.certificate, X509_get_subject_name(issued.certificate))
            try addExtensions(
                [
                    (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                    (NID_key_usage, "critical,keyCertSign,cRLSign"),
                    (NID_subject_key_identifier, "hash"),
                    (NID_authority_key_identifier, "keyid:always"),
                ],
                to: issued.certificate,
                issuer: issued.certificate
            )
            try sign(issued.certificate, with: issued.key)
        } catch {
            issued.free()
            throw error
        }
        return issued
    }

    static func makeLeaf(
        commonName: String,
        extensions: [(Int32, String)],
        issuer: IssuedCertificate,
        validityDays: Int
    ) throws(DevelopmentCertificatesError) -> IssuedCertificate {
        let issued = try makeUnsigned(commonName: commonName, validityDays: validityDays)
        do throws(DevelopmentCertificatesError) {
            _ = X509_set_issuer_name(issued.certificate, X509_get_subject_name(issuer.certificate))
            let common: [(Int32, String)] = [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature,keyAgreement"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ]
            try addExtensions(common + extensions, to: issued.certificate, issuer: issuer.certificate)
            try sign(issued.certificate, with: issuer.key)
        } catch {
            issued.free()
            throw error
        }
        return issued
    }

    /// A fresh key and a v3 certificate with subject CN, a random serial and validity from an hour ago.
    private static func makeUnsigned(
        commonName: String,
        validityDays: Int
    ) throws(DevelopmentCertificatesError) -> IssuedCertificate {
        guard let key = copenssl_generate_p256() else { throw failure("cannot generate a P-256 key") }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw failure("X509_new failed")
        }
        let issued = IssuedCertificate(key: key, certificate: certificate)
        var serial: UInt64 = 0
        withUnsafeMutableBytes(of: &serial) { raw in
            let random = SecureRandom.bytes(8)
            raw.copyBytes(from: random)
        }
        serial = serial >> 1 | 1  // positive and non-zero
        let subject = X509_get_subject_name(certificate)
        guard X509_set_version(certificate, 2) == 1,
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), serial) == 1,
            X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), validityDays * 86_400) != nil,
            copenssl_name_add_text(subject, "CN", commonName) == 1,
            X509_set_pubkey(certificate, key) == 1
        else {
            issued.free()
            throw failure("cannot fill in the certificate for \(commonName)")
        }
        return issued
    }

    private static func addExtensions(
        _ extensions: [(Int32, String)],
        to certificate: OpaquePointer,
        issuer: OpaquePointer
    ) throws(DevelopmentCertificatesError) {
        for (nid, value) in extensions where copenssl_add_extension(certificate, issuer, nid, value) != 1 {
            throw failure("cannot add certificate extension \(value)")
        }
    }

    private static func sign(_ certificate: OpaquePointer, with key: OpaquePointer) throws(DevelopmentCertificatesError)
    {
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw failure("cannot sign the certificate") }
    }

    private static func failure(_ what: String) -> DevelopmentCertificatesError {
        DevelopmentCertificatesError(message: "\(what): \(OpenSSLErrors.drain())")
    }
}
