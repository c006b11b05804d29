import Stream

extension StreamEnvironment {
    /// Every process started and ended on this host (eBPF, bpf/process.bpf.c; needs root or
    /// CAP_BPF and CAP_PERFMON, and the kernel's BTF). `optional`: run the rest of the job
    /// without it when it cannot start.
    public func processEvents(name: String = "process-events", optional: Bool = false) -> DataStream<ProcessEvent> {
        source(name: name, parallelism: 1) { _, _ in
            try BPFRingSource(object: "process.bpf.o", optional: optional, decode: ProcessEvent.decode, unixNanos: \.timeUnixNanos)
        }
    }
}
