import Stream

extension StreamEnvironment {
    /// TCP connections of this host: handshake latency, failed connects, retransmits, resets
    /// (eBPF, bpf/tcp.bpf.c; needs root or CAP_BPF and CAP_PERFMON, and the kernel's BTF).
    /// `optional`: run the rest of the job without it when it cannot start.
    public func tcpEvents(name: String = "tcp-events", optional: Bool = false) -> DataStream<TCPEvent> {
        source(name: name, parallelism: 1) { _, _ in
            try BPFRingSource(object: "tcp.bpf.o", optional: optional, decode: TCPEvent.decode, unixNanos: \.timeUnixNanos)
        }
    }
}
