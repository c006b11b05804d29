import Stream

/// The log-anomaly operator, per service (the key): mines each message's template and, per
/// tumbling event-time window, compares every template's count and the error-severity count
/// with exponentially weighted baselines. Emits a `LogAnomaly` for a template never seen
/// before (at once), a template rate that moved `threshold` deviations and `minimumChange`
/// messages away from its baseline, and an error burst (when the window closes: at the
/// watermark, or when the service's next message is in a later window). A window with no
/// message closes too (a template that stopped is a rate shift); the timer chain then stops
/// until the service speaks again, and the silent windows in between count as zeros (at most
/// `maxSilentWindows` of them, so a long silence costs little).
///
/// At the end of a bounded input the window in progress closes short: it is judged for rises
/// (a burst, a rate jump) but not for drops.
///
/// A service's first `warmupWindows` windows only teach: no events. Its very first window
/// teaches nothing (it began with the service's first message, part-way through). Records need event-time
/// timestamps. State: one `ServiceLogState` per service, checkpointed with the job.
public struct LogAnomalyFunction: KeyedProcessFunction, @unchecked Sendable {
    public typealias Key = String
    public typealias Input = LogEvent
    public typealias Output = LogAnomaly

    public let config: LogAnomalyConfig
    static let maxSilentWindows = 100

    // Made in `open`, per subtask, and used by its thread only (hence @unchecked Sendable).
    private var miner: TemplateMiner?
    private var state: ValueState<String, ServiceLogState>!

    public init(config: LogAnomalyConfig = LogAnomalyConfig()) {
        self.config = config
    }

    public mutating func open(_ context: KeyedContext<String, LogAnomaly>) throws {
        if let problem = config.problem { throw TemplateMinerError(description: "log anomalies: \(problem)") }
        miner = try TemplateMiner(config: config.miner)
        state = try context.valueState("log-anomalies", ServiceLogState.self)
    }

    public mutating func processElement(_ event: LogEvent, _ context: KeyedContext<String, LogAnomaly>) throws {
        let t = context.timestamp
        guard t != noTimestamp else {
            throw TemplateMinerError(description: "log anomalies need event time: a record of service '\(event.service)' has no timestamp (assign timestamps and watermarks before)")
        }
        let miner = self.miner!
        let config = self.config
        let window = config.window.milliseconds
        let start = t - ((t % window) + window) % window
        var pending: [LogAnomaly] = []
        state.mutate(default: { ServiceLogState() }) { s in
            if s.windowStart == noTimestamp {
                s.windowStart = start
                context.registerEventTimeTimer(at: start + window - 1)
            } else if start > s.windowStart {
                Self.close(&s, config: config, service: event.service, into: &pending)
                let silent = min((start - s.windowStart) / window, Int64(Self.maxSilentWindows))
                for _ in 0..<silent { Self.close(&s, config: config, service: event.service, into: &pending) }
                s.windowStart = start
                context.registerEventTimeTimer(at: start + window - 1)
            }
            // A late message (its window closed) counts in the window in progress.
            let match = miner.withStore(&s.templates) { m in
                var message = event.message
                return message.withUTF8 { m.add($0) }
            }
            if match.kind == .new && s.closedWindows >= config.warmupWindows {
                pending.append(LogAnomaly(kind: .newTemplate, service: event.service, windowStart: s.windowStart,
                                          windowEnd: s.windowStart + window, templateID: match.templateID,
                                          template: s.templates.text(of: match.templateID), observed: 1, expected: 0, score: 0))
            }
            s.counts[match.templateID, default: 0] += 1
            if event.isError { s.errors += 1 }
        }
        for a in pending { try context.emit(a, timestamp: a.kind == .newTemplate ? t : a.windowEnd - 1) }
    }

    public mutating func onTimer(_ timestamp: Timestamp, domain: TimeDomain, _ context: KeyedContext<String, LogAnomaly>) throws {
        let config = self.config
        let window = config.window.milliseconds
        let service = context.key
        var pending: [LogAnomaly] = []
        state.mutate(default: { ServiceLogState() }) { s in
            // Only the timer of the window in progress closes it (a message may have moved on).
            guard s.windowStart != noTimestamp, timestamp == s.windowStart + window - 1 else { return }
            let hadMessages = !s.counts.isEmpty
            // At the end of a bounded input (the final watermark) the last window closes, but
            // the silence after it is the input's, not the service's: no empty window is judged.
            let inputEnded = context.currentWatermark == Watermarks.endOfTime
            if inputEnded && !hadMessages { return }
            // A last window cut short by the end of input is judged only for rises.
            Self.close(&s, config: config, service: service, judgingDrops: !inputEnded, into: &pending)
            if hadMessages && !inputEnded {
                context.registerEventTimeTimer(at: s.windowStart + window - 1)
            }
        }
        for a in pending { try context.emit(a, timestamp: a.windowEnd - 1) }
    }

    /// Judges the window in progress against the baselines, folds it in, starts the next.
    static func close(_ s: inout ServiceLogState, config: LogAnomalyConfig, service: String, judgingDrops: Bool = true,
                      into out: inout [LogAnomaly]) {
        let window = config.window.milliseconds
        let end = s.windowStart + window
        let warm = s.closedWindows >= config.warmupWindows
        // A service's first window began when its first message came, not at the window's
        // start: its counts are a fraction of a window's, and would teach a baseline too low.
        let partial = s.closedWindows == 0
        // Templates evicted from the store take their baselines with them.
        for id in s.rates.keys where !s.templates.contains(id) { s.rates[id] = nil }
        var ids = Set(s.rates.keys)
        ids.formUnion(s.counts.keys)
        for id in ids.sorted() {
            let count = Double(s.counts[id] ?? 0)
            var baseline = s.rates[id] ?? RateBaseline()
            if warm && baseline.windows >= config.warmupWindows {
                let z = baseline.score(count)
                if abs(z) >= config.threshold && abs(count - baseline.mean) >= config.minimumChange && (judgingDrops || z > 0) {
                    out.append(LogAnomaly(kind: .rateShift, service: service, windowStart: s.windowStart, windowEnd: end,
                                          templateID: id, template: s.templates.text(of: id),
                                          observed: count, expected: baseline.mean, score: z))
                }
            }
            if s.templates.contains(id) && !partial {
                baseline.add(count, weight: config.baselineWeight, limit: config.threshold, established: config.warmupWindows)
                s.rates[id] = baseline
            }
        }
        let errors = Double(s.errors)
        if warm && s.errorRate.windows >= config.warmupWindows {
            let z = s.errorRate.score(errors)
            if z >= config.threshold && errors - s.errorRate.mean >= config.minimumChange {
                out.append(LogAnomaly(kind: .errorBurst, service: service, windowStart: s.windowStart, windowEnd: end,
                                      templateID: nil, template: nil, observed: errors, expected: s.errorRate.mean, score: z))
            }
        }
        if !partial { s.errorRate.add(errors, weight: config.baselineWeight, limit: config.threshold, established: config.warmupWindows) }
        s.counts.removeAll(keepingCapacity: true)
        s.errors = 0
        s.closedWindows += 1
        s.windowStart = end
    }
}

extension DataStream where T == LogEvent {
    /// Log anomalies per service: new templates, template rate shifts, error bursts (see
    /// `LogAnomalyFunction`). Needs event-time timestamps and watermarks on the records.
    public func logAnomalies(_ config: LogAnomalyConfig = LogAnomalyConfig(), name: String = "log-anomalies",
                             parallelism: Int? = nil) -> DataStream<LogAnomaly> {
        keyBy(\.service).process(name: name, parallelism: parallelism, LogAnomalyFunction(config: config))
    }
}
