import CRdKafka

/// A failure reported by librdkafka or by Vigil's use of it, with what was being done.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// librdkafka's error code (`rd_kafka_resp_err_t`), 0 when the problem is Vigil's own.
    public let code: Int32
    public let message: String
    /// True when librdkafka says the client cannot go on (e.g. a fenced transactional producer).
    public let isFatal: Bool

    public init(_ message: String, code: Int32 = 0, isFatal: Bool = false) {
        self.message = message
        self.code = code
        self.isFatal = isFatal
    }

    init(_ what: String, err: rd_kafka_resp_err_t) {
        self.init("\(what): \(String(cString: rd_kafka_err2str(err))) (\(String(cString: rd_kafka_err2name(err))))",
                  code: err.rawValue)
    }

    /// Takes ownership of `error` (destroys it).
    init(_ what: String, error: OpaquePointer) {
        self.init("\(what): \(String(cString: rd_kafka_error_string(error)))",
                  code: rd_kafka_error_code(error).rawValue, isFatal: rd_kafka_error_is_fatal(error) != 0)
        rd_kafka_error_destroy(error)
    }

    public var description: String { message }
}
