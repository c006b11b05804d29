import Stream

extension StreamEnvironment {
    /// Records decoded from Kafka topics, read as consumer group `options.groupID`. Each
    /// subtask is a group member; event time comes from `decoder`, per partition, and the
    /// watermark is the least over the partitions that are not idle.
    public func kafkaSource<D: KafkaMessageDecoder>(
        _ options: KafkaSourceOptions, name: String? = nil, parallelism: Int? = nil,
        decoder: @escaping @Sendable () -> D
    ) -> DataStream<D.Output> {
        source(name: name ?? "kafka(\(options.topics.joined(separator: ",")))", parallelism: parallelism,
               idleTimeout: options.partitionIdleTimeout) { subtask, _ in
            try KafkaSourceReader(options: options, decoder: decoder(), subtask: subtask)
        }
    }
}

extension DataStream {
    /// Writes every record to a Kafka topic, at least once or exactly once (`options.guarantee`).
    public func sinkToKafka(_ options: KafkaSinkOptions, name: String? = nil, parallelism: Int? = nil,
                            encode: @escaping @Sendable (T) -> KafkaOutputRecord) {
        let name = name ?? "kafka(\(options.topic))"
        switch options.guarantee {
        case .atLeastOnce:
            sink(name: name, parallelism: parallelism) { _, _ in try KafkaAtLeastOnceWriter(options: options, encode: encode) }
        case .exactlyOnce:
            sink(name: name, parallelism: parallelism) { subtask, _ in
                try KafkaTransactionalWriter(options: options, subtask: subtask, encode: encode)
            }
        }
    }
}
