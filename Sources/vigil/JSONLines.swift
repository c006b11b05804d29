import Foundation

/// One JSON object per line, snake_case keys, sorted: what the streaming commands print.
enum JSONLines {
    static func line<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The same with a "kind" field first, for commands that print several kinds of line.
    static func line<T: Encodable>(kind: String, _ value: T) -> String {
        let body = line(value)
        return body.count > 2 ? "{\"kind\":\"\(kind)\"," + body.dropFirst() : "{\"kind\":\"\(kind)\"}"
    }
}
