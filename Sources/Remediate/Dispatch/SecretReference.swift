import Foundation

/// `${env:NAME}` inside a header value: replaced by the environment variable when the request
/// is sent. The policy, the outbox and the audit log only ever hold the reference.
enum SecretReference {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "environment variable \(name) is not set" }
    }

    /// What is wrong with the references in `value`, if anything.
    static func problem(in value: String) -> String? {
        var rest = Substring(value)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return "unclosed '${' (write ${env:NAME})" }
            let inner = rest[start.upperBound..<end]
            guard inner.hasPrefix("env:"), inner.count > 4,
                  inner.dropFirst(4).allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                return "'${\(inner)}' is not a reference to an environment variable (write ${env:NAME})"
            }
            rest = rest[rest.index(after: end)...]
        }
        return nil
    }

    /// `value` with every reference replaced from `environment`.
    static func resolve(_ value: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var out = ""
        var rest = Substring(value)
        while let start = rest.range(of: "${env:"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            out += rest[..<start.lowerBound]
            let name = String(rest[start.upperBound..<end])
            guard let secret = environment[name] else { throw Missing(name: name) }
            out += secret
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
