import CorralSupport
import HTTPKit

/// `corral-controller tls init DIR --host NAME [--ip ADDR] [--client NODE] [--days N] [--force]`: a development
/// CA, a server certificate for the controller's names and addresses, and client certificates for agents.
enum TLSInit {
    static let usage = """
        usage: corral-controller tls init DIR --host NAME [--host NAME ...] [--ip ADDR ...] [--client NODE ...]
                                          [--days N] [--force]
        """

    static func main(_ arguments: [String]) -> Int32 {
        guard arguments.first == "init", arguments.count >= 2, !arguments[1].hasPrefix("-") else {
            FileHandleOutput.stderr(usage + "\n")
            return 2
        }
        let directory = arguments[1]
        var hosts: [String] = []
        var ips: [String] = []
        var clients: [String] = []
        var days = 825
        var force = false
        var reader = ArgumentReader(Array(arguments.dropFirst(2)))
        do throws(UsageError) {
            while let argument = try reader.next() {
                switch argument {
                case .option("--force"): force = true
                case .option("--host"): hosts.append(try reader.value(for: "--host"))
                case .option("--ip"): ips.append(try reader.value(for: "--ip"))
                case .option("--client"): clients.append(try reader.value(for: "--client"))
                case .option("--days"):
                    guard let number = Int(try reader.value(for: "--days")) else {
                        throw UsageError("--days takes a number", code: .malformedValue)
                    }
                    days = number
                case .option(let word), .positional(let word): throw UsageError.unknownOption(word)
                }
            }
        } catch {
            // A bad value is named alone; any other mistake comes with the usage.
            let usage = error.code == .malformedValue ? "" : "\n" + usage
            FileHandleOutput.stderr("corral-controller: \(error.message)\(usage)\n")
            return 2
        }
        for client in clients where !isValidNodeName(client) {
            let rule = "letters, digits, '.', '_', '-'; not starting with '.'"
            FileHandleOutput.stderr("corral-controller: invalid client name '\(client)' (\(rule))\n")
            return 1
        }
        do {
            let files = try DevelopmentCertificates.generate(
                into: directory,
                hosts: hosts,
                ips: ips,
                clients: clients,
                caName: "Corral development CA",
                validityDays: days,
                overwrite: force
            )
            var text = """
                wrote a development CA and certificates in \(directory):
                  CA:      \(files.caCertificate)   (give it to the CLI and agents: --ca-file)
                  server:  \(files.serverCertificate) and \(files.serverKey)

                """
            for (node, client) in files.clients.sorted(by: { $0.key < $1.key }) {
                text += "  agent \(node): \(client.certificate) and \(client.key)\n"
            }
            text += """

                next:
                  corral-controller --tls-cert \(files.serverCertificate) --tls-key \(files.serverKey) \\
                      --client-ca \(files.caCertificate) [--require-agent-certificate] --listen 0.0.0.0:8700
                  corral configure --endpoint https://\(hosts.first ?? ips.first ?? "HOST"):8700 --ca-file \(files.caCertificate) --token ...

                """
            FileHandleOutput.stdout(text)
            return 0
        } catch {
            FileHandleOutput.stderr("corral-controller: \(error.message)\n")
            return 1
        }
    }

    /// A client certificate's CN is the agent's node id, which the controller compares with the node it
    /// acts for: the same characters, and no leading '.' since the name is also a file name.
    static func isValidNodeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".")
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
