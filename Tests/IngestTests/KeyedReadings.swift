@testable import Ingest
import Stream

/// The record of the scale-out tests' jobs: a key, with its event time beside it.
struct KeyedReading: Sendable, StateCodable {
    var key: String
    func encode(to w: inout StateWriter) { w.write(key) }
    static func decode(from r: inout StateReader) throws -> KeyedReading { KeyedReading(key: try r.readString()) }
}

/// One "KEY TIME_MS" per line of a message.
struct KeyedReadingDecoder: KafkaMessageDecoder {
    struct Malformed: Error {}
    mutating func decode(_ m: KafkaMessage, emit: (KeyedReading, Timestamp) throws -> Void) throws {
        for line in String(decoding: m.value, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 2, let t = Int64(f[1]) else { throw Malformed() }
            try emit(KeyedReading(key: String(f[0])), t)
        }
    }
}
