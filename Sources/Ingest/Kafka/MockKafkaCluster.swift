import CRdKafka

/// librdkafka's mock cluster: an in-process Kafka protocol implementation (brokers on
/// loopback TCP ports) for development and tests, with fault injection. Any Kafka client can
/// connect to `bootstrapServers`. Not for production data: it keeps everything in memory.
public final class MockKafkaCluster: @unchecked Sendable {
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    public let brokerCount: Int
    /// Listeners set to TCP_NODELAY (every broker's, on Linux): see `setNoDelayOnListeners`.
    public let noDelayListeners: Int
    /// The brokers' loopback ports, from `bootstrapServers`.
    var listenerPorts: Set<Int> { Self.ports(bootstrapServers) }
    static func ports(_ bootstrap: String) -> Set<Int> {
        Set(bootstrap.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { Int($0) } })
    }

    /// - Parameter markersTopic: create the exactly-once sink's markers topic now, as a cluster
    ///   that ran Vigil before has it. The mock does not answer CreateTopics, so a sink's first
    ///   start would otherwise wait out its 5 s request before relying on the topic being created
    ///   when first written.
    public init(brokers: Int = 3, markersTopic: Bool = true) throws {
        let conf = try KafkaProperties(dictionaryLiteral: ("log_level", "3")).makeConf()
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("cannot start the mock cluster's client: \(String(cString: errstr))")
        }
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError("cannot start a mock Kafka cluster of \(brokers) brokers")
        }
        owner = rk
        cluster = mc
        brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mc))
        // Before any client connects: accepted connections take the option from the listener.
        noDelayListeners = setNoDelayOnListeners(ports: Self.ports(bootstrapServers))
        if markersTopic {
            try createTopic(KafkaSinkOptions.defaultMarkersTopic, partitions: 1, replicationFactor: min(3, brokers))
        }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// Creates a topic; one that exists already is left as it is.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else {
            throw KafkaError("creating topic \(name)", err: err)
        }
    }

    // MARK: faults

    /// Takes a broker (1-based id) down: its connections close and it refuses new ones.
    public func setBrokerDown(_ broker: Int32) { rd_kafka_mock_broker_set_down(cluster, broker) }
    public func setBrokerUp(_ broker: Int32) { rd_kafka_mock_broker_set_up(cluster, broker) }
    /// Moves a partition's leadership to another broker.
    public func setLeader(topic: String, partition: Int32, broker: Int32) {
        rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker)
    }
    /// Makes the next requests of the API key (Kafka protocol numbers: Produce 0, Fetch 1,
    /// OffsetCommit 8, …) fail with these errors, one each.
    public func pushRequestErrors(apiKey: Int16, _ errors: [Int32]) {
        var errs = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, errs.count, &errs)
    }
    /// Reads a request fault as `vigil broker --fail-requests` takes it: `API:ERROR[,ERROR...]`,
    /// the API by name (`JoinGroup`) or number, each error by Kafka's name
    /// (`INVALID_SESSION_TIMEOUT`) or number.
    public static func parseRequestFault(_ spec: String) throws -> (apiKey: Int16, errors: [Int32]) {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { throw KafkaError("request fault '\(spec)': expected API:ERROR[,ERROR...]") }
        guard let api = Int16(parts[0]) ?? apiKeys[parts[0].lowercased()] else {
            throw KafkaError("request fault '\(spec)': unknown API '\(parts[0])' (a number, or one of \(apiKeys.keys.sorted().joined(separator: ", ")))")
        }
        let errors = try parts[1].split(separator: ",").map { name -> Int32 in
            if let n = Int32(name) { return n }
            // librdkafka names every broker error it knows (codes 1 and up).
            if let code = (1...200).first(where: { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: Int32($0)))) == name.uppercased() }) {
                return Int32(code)
            }
            throw KafkaError("request fault '\(spec)': unknown Kafka error '\(name)' (a number, or a name such as INVALID_SESSION_TIMEOUT)")
        }
        return (api, errors)
    }

    /// Kafka protocol API keys by lowercased name (the ones a fault is likely wanted for).
    private static let apiKeys: [String: Int16] = [
        "produce": 0, "fetch": 1, "listoffsets": 2, "metadata": 3, "offsetcommit": 8, "offsetfetch": 9,
        "findcoordinator": 10, "joingroup": 11, "heartbeat": 12, "leavegroup": 13, "syncgroup": 14,
        "initproducerid": 22, "addpartitionstotxn": 24, "addoffsetstotxn": 25, "endtxn": 26, "txnoffsetcommit": 28,
    ]

    public func setRoundTripTime(broker: Int32, milliseconds: Int32) {
        rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds)
    }
}
