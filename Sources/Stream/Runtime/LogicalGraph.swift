/// One vertex of the logical graph: an operator (or source) with its parallelism and a factory
/// that builds one instance per subtask. The factory is created inside the generic DSL method,
/// where the record types are concrete, so everything it builds is specialised for them.
final class LogicalNode: @unchecked Sendable {
    let id: Int
    var name: String
    var parallelism: Int
    var maxParallelism: Int
    let isSource: Bool
    /// false: always start a new chain at this node (`startNewChain()`/`disableChaining()`).
    var chainable = true
    var inputs: [LogicalEdge] = []
    let factory: @Sendable (OperatorBuildContext) throws -> OperatorInstance

    init(id: Int, name: String, parallelism: Int, maxParallelism: Int, isSource: Bool,
         factory: @escaping @Sendable (OperatorBuildContext) throws -> OperatorInstance) {
        self.id = id
        self.name = name
        self.parallelism = parallelism
        self.maxParallelism = maxParallelism
        self.isSource = isSource
        self.factory = factory
    }
}

/// Where a stream comes from: a node's main output, or one of its side outputs.
struct StreamOrigin: @unchecked Sendable {
    let node: LogicalNode
    /// nil for the main output.
    let sideOutputTag: String?
    /// For side outputs: makes (or finds) the typed output on an operator instance.
    let makeSideSlot: (@Sendable (StreamOperator) -> OutputSlot)?
}

struct LogicalEdge: @unchecked Sendable {
    let origin: StreamOrigin
    let targetInput: Int
    let partitioning: Partitioning
    /// For `.keyGroups`: a `KeyGroupSelector<T>` of the edge's record type.
    let keyGroupSelector: AnyObject?
}

/// Computes the stable hash of a record's key (boxed so edges can carry it type-erased); the
/// record writer turns it into a key group with the consumer's max parallelism.
final class KeyGroupSelector<T>: @unchecked Sendable {
    let keyHash: (T) -> UInt64
    init(_ keyHash: @escaping (T) -> UInt64) { self.keyHash = keyHash }
}

/// What a node's factory gets to build one subtask's operator instance.
struct OperatorBuildContext {
    let info: OperatorInfo
    let runtime: OperatorRuntime
}

/// One subtask's operator instance, with its inputs and main output in type-erased form.
struct OperatorInstance {
    let op: StreamOperator
    /// Per logical input.
    let inputs: [InputHandle]
    /// nil for sinks.
    let mainOutput: OutputSlot?
    /// Set for source operators.
    let source: (any SourceDriving)?

    init(op: StreamOperator, inputs: [InputHandle], mainOutput: OutputSlot?, source: (any SourceDriving)? = nil) {
        self.op = op
        self.inputs = inputs
        self.mainOutput = mainOutput
        self.source = source
    }
}

/// An operator input: the record entry point, and how to feed it a batch from a channel.
struct InputHandle {
    let push: AnyObject
    let drain: (any Sendable) throws -> Void

    static func of<T: Sendable>(_ push: Push<T>) -> InputHandle {
        let call = push.call
        return InputHandle(push: push, drain: { payload in
            let batch = payload as! ContiguousArray<StreamRecord<T>>
            prefetch(batch)
            for r in batch { try call(r.value, r.timestamp) }
        })
    }
}

/// What a record writer needs besides its record type.
struct WriterRequest {
    let targets: [ChannelTarget]
    let partitioning: Partitioning
    let keyGroupSelector: AnyObject?
    let maxParallelism: Int
    let batchSize: Int
    let metrics: TaskMetrics
}

/// An operator output in type-erased form: wires it to chained inputs and record writers.
struct OutputSlot {
    /// Connects the output to `pushes` (all `Push<T>` of its type) and control targets.
    let bind: ([AnyObject], [ControlTarget]) -> Void
    /// Makes a record writer for this output's record type: its push and its control face.
    let makeWriter: (WriterRequest) -> (push: AnyObject, writer: any EventSink & Flushable)

    static func of<T: Sendable>(_ output: Output<T>) -> OutputSlot {
        OutputSlot(
            bind: { pushes, controls in
                output.connect(pushes.map { unsafeDowncast($0, to: Push<T>.self) }, controls)
            },
            makeWriter: { request in
                let selector = request.keyGroupSelector.map { unsafeDowncast($0, to: KeyGroupSelector<T>.self) }
                let writer = RecordWriter<T>(targets: request.targets, partitioning: request.partitioning,
                                             keyHashOf: selector?.keyHash, maxParallelism: request.maxParallelism,
                                             batchSize: request.batchSize, metrics: request.metrics)
                return (writer.push, writer)
            })
    }

    /// A side output slot: registers a typed `Output<T>` for `tag` on the operator.
    static func side<T: Sendable>(_ tag: String, of op: StreamOperator, type: T.Type) -> OutputSlot {
        let output: Output<T>
        if let existing = op.sideOutputs[tag] {
            output = unsafeDowncast(existing, to: Output<T>.self)
        } else {
            output = Output<T>()
            op.sideOutputs[tag] = output
            op.outputs.append(output)
        }
        return .of(output)
    }
}

/// Reads one byte per cache line of a batch before it is processed. The batch was written on
/// another core; a plain sequential sweep lets the hardware prefetcher stream it in, where
/// the per-record loop (interleaved with hash-table work) would wait on each line in turn.
@inline(__always)
func prefetch<T>(_ batch: ContiguousArray<T>) {
    batch.withUnsafeBytes { bytes in
        var sink: UInt8 = 0
        var i = 0
        while i < bytes.count { sink &+= bytes[i]; i &+= 64 }
        keepObservable(sink)  // or the optimiser deletes the loads
    }
}

@inline(never) @_optimize(none)
func keepObservable(_ value: UInt8) {}
