import Foundation
import Stream

/// Incidents as JSON lines, the way `vigil incidents` prints them (snake_case keys), so its
/// output — a file or a topic — is `vigil remediate`'s input.
extension RemediationIncident {
    public struct MalformedLine: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decode(jsonLine line: some StringProtocol) throws -> RemediationIncident {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(RemediationIncident.self, from: Data(line.utf8))
        } catch DecodingError.keyNotFound(let key, _) {
            throw MalformedLine(description: "not an incident: no '\(key.stringValue.snakeCased)' field")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue.snakeCased }.joined(separator: ".")
            throw MalformedLine(description: "not an incident: '\(path)' \(context.debugDescription.lowercased())")
        } catch DecodingError.dataCorrupted(let context) {
            throw MalformedLine(description: "not an incident: \(context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)")
        } catch {
            throw MalformedLine(description: "not an incident: \(error)")
        }
    }

    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension String {
    var snakeCased: String {
        var out = ""
        for c in self {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}

extension DataStream where T == RemediationIncident {
    /// Decides with `config` and hands the decisions to `dispatcher` through the outbox: the
    /// whole of remediation on a stream of incidents.
    public func remediate(_ config: RemediationConfig, dispatcher: ActionDispatcher) {
        remediate(config).writeToOutbox(dispatcher.outbox) { [dispatcher] in dispatcher.wake() }
    }
}
