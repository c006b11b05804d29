/// Reads CSV as Loghub's structured files are written (RFC 4180: fields separated by commas,
/// quoted with `"` when they hold commas, quotes or line breaks; `""` inside quotes is a quote).
public enum CSVReader {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every row's fields. A quote left open at the end of the text is an error naming the
    /// row where it began.
    public static func rows(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var quoteStartRow = 0
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }  // a UTF-8 byte order mark
        var i = bytes.startIndex
        func endField() {
            row.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while i < bytes.endIndex {
            let c = bytes[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.endIndex && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: "\""):
                    quoted = true
                    quoteStartRow = rows.count + 1
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\n"):
                    endField()
                    rows.append(row)
                    row = []
                case UInt8(ascii: "\r"):
                    break  // \r\n line ends
                default:
                    field.append(c)
                }
            }
            i += 1
        }
        if quoted { throw Malformed(description: "CSV: the quote opened in row \(quoteStartRow) is never closed") }
        if !field.isEmpty || !row.isEmpty {
            endField()
            rows.append(row)
        }
        return rows
    }

    /// Rows as dictionaries keyed by the header row's names.
    public static func records(_ text: String) throws -> [[String: String]] {
        let all = try rows(text)
        guard let header = all.first else { return [] }
        return try all.dropFirst().enumerated().map { index, row in
            guard row.count == header.count else {
                throw Malformed(description: "CSV: row \(index + 2) has \(row.count) fields, the header \(header.count)")
            }
            return Dictionary(uniqueKeysWithValues: zip(header, row))
        }
    }
}
