import Logging

/// Settings shared by the window operators.
struct WindowSettings<T>: @unchecked Sendable {
    var spec: WindowSpec
    /// How long after a window fired late records still update it (event time only).
    var allowedLateness: Int64
    /// Where records too late for every window go; without one they are dropped and counted.
    var lateTag: OutputTag<T>?
}

/// The part of a window operator that decides what is late and where late records go.
extension StreamOperator {
    /// Event time: a window is late when its cleanup time (end + lateness) has passed.
    @inline(__always)
    func isWindowLate(_ window: TimeWindow, lateness: Int64) -> Bool {
        window.maxTimestamp &+ lateness <= currentWatermark
    }

    /// The time a record is windowed by: its event timestamp, or the processing clock.
    @inline(__always)
    func windowTime<T>(of value: T, timestamp: Timestamp, eventTime: Bool) throws -> Timestamp {
        guard eventTime else { return processingClock.now() }
        guard timestamp != noTimestamp else {
            throw wrap(MissingTimestampError(), context: "record \(shortDescription(value))")
        }
        return timestamp
    }

    /// Shapes and emits one window result; user errors name the key and the window.
    @inline(__always)
    func emitWindowResult<K, A: AggregateFunction, R>(
        _ key: K, _ window: TimeWindow, _ accumulator: A.Accumulator, aggregate: A,
        makeResult: (K, TimeWindow, A.Output) throws -> R, to output: Output<R>
    ) throws {
        try emitWindowResult(key, window, accumulator, aggregate: aggregate, makeResult: makeResult, to: output.target.call)
    }

    /// The same, to an output's push closure loaded once by a caller emitting many results
    /// (a closure loaded from the output is retained and released around every call).
    @inline(__always)
    func emitWindowResult<K, A: AggregateFunction, R>(
        _ key: K, _ window: TimeWindow, _ accumulator: A.Accumulator, aggregate: A,
        makeResult: (K, TimeWindow, A.Output) throws -> R, to push: (R, Timestamp) throws -> Void
    ) throws {
        let result: R
        do { result = try makeResult(key, window, aggregate.result(accumulator)) } catch {
            throw wrap(error, context: "key \(key), window \(window)")
        }
        try push(result, window.maxTimestamp)
    }

    func emitLate<T>(_ value: T, timestamp: Timestamp, tag: OutputTag<T>?) throws {
        if let tag, let late = sideOutput(tag) {
            try late.emit(value, timestamp: timestamp)
        } else {
            if metrics.lateRecordsDropped == 0 {
                Logger(label: "vigil.stream").warning(
                    "late record dropped (no late side output declared); further drops are only counted",
                    metadata: ["operator": "\(info.name)", "timestamp": "\(timestamp)", "watermark": "\(currentWatermark)"])
            }
            metrics.lateRecordsDropped += 1
        }
    }
}

/// Records with no event timestamp cannot be windowed in event time.
struct MissingTimestampError: Error, CustomStringConvertible {
    var description: String {
        "record has no event timestamp: give the source a WatermarkStrategy or call assignTimestamps(...) before an event-time window"
    }
}

/// The coders a window operator's checkpoint needs: its key's and its accumulator's.
struct WindowStateCoders<K, Acc> {
    let key: StateCoder<K>
    let accumulator: StateCoder<Acc>

    /// What lacks a coder, naming the operator (empty when both resolve).
    static func problems(operatorName: String) -> [String] {
        [StateCoder<K>.resolve() == nil ? notCheckpointable("the window key", K.self) : nil,
         StateCoder<Acc>.resolve() == nil ? notCheckpointable("the window accumulator", Acc.self) : nil]
            .compactMap { $0.map { "operator '\(operatorName)': \($0)" } }
    }

    /// Both coders, or the problems as the error `makeError` builds.
    static func resolve(operatorName: String, _ makeError: (String) -> any Error) throws -> WindowStateCoders {
        guard let key = StateCoder<K>.resolve(), let accumulator = StateCoder<Acc>.resolve() else {
            throw makeError(problems(operatorName: operatorName).joined(separator: "; "))
        }
        return WindowStateCoders(key: key, accumulator: accumulator)
    }
}
