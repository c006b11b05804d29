/// Session windows: per key, windows of activity separated by at least `gap`. A record opens
/// `[t, t + gap)`; windows that touch merge, their accumulators merged. Each session has a
/// timer at its end (and one at end + allowed lateness for cleanup); timers of sessions that
/// merged away are ignored when they fire.
final class SessionWindowOperator<K: StreamKey, T: Sendable, A: AggregateFunction, R: Sendable>: StreamOperator
where A.Input == T {
    struct Session {
        var window: TimeWindow
        var accumulator: A.Accumulator
    }

    let output = Output<R>()
    private let keyOf: (T) -> K
    private let aggregate: A
    private let makeResult: (K, TimeWindow, A.Output) throws -> R
    private let settings: WindowSettings<T>
    private let gap: Int64
    private let isEventTime: Bool
    /// Per key, its sessions ordered by start.
    private var sessions: [K: [Session]] = [:]
    private let timers = InternalTimers<K, Int8>()
    /// Timer handling and the end-of-input flush as closures made in `init`, so they run
    /// specialised (the overrides are reached through the vtable).
    private var fireEventTimers: ((Timestamp) throws -> Void)!
    private var fireProcessingTimers: ((Timestamp) throws -> Void)!
    private var flushAll: (() throws -> Void)!

    init(info: OperatorInfo, runtime: OperatorRuntime, keyOf: @escaping (T) -> K, aggregate: A,
         settings: WindowSettings<T>, makeResult: @escaping (K, TimeWindow, A.Output) throws -> R) {
        self.keyOf = keyOf
        self.aggregate = aggregate
        self.makeResult = makeResult
        self.settings = settings
        guard case .session(let g) = settings.spec.kind else { preconditionFailure("not a session window") }
        gap = g
        isEventTime = settings.spec.domain == .eventTime
        super.init(info: info, inputs: 1, runtime: runtime)
        outputs = [output]
        fireEventTimers = { [unowned(unsafe) self] watermark in
            try self.timers.advanceWatermark(to: watermark) { try self.onTimer($0, lateness: self.settings.allowedLateness) }
        }
        fireProcessingTimers = { [unowned(unsafe) self] now in
            try self.timers.advanceProcessingTime(to: now) { try self.onTimer($0, lateness: 0) }
        }
        flushAll = { [unowned(unsafe) self] in
            for (key, list) in self.sessions { for s in list { try self.emit(key, s) } }
            self.sessions.removeAll()
        }
    }

    func process(_ value: T, _ ts: Timestamp) throws {
        let time = try windowTime(of: value, timestamp: ts, eventTime: isEventTime)
        let key = keyOf(value)
        var merged = Session(window: TimeWindow(start: time, end: time + gap), accumulator: aggregate.makeAccumulator())
        aggregate.add(value, to: &merged.accumulator)
        var list = sessions[key] ?? []
        // Merge every session that overlaps or touches the new one.
        list.removeAll { s in
            guard s.window.start <= merged.window.end && s.window.end >= merged.window.start else { return false }
            merged.window = TimeWindow(start: min(s.window.start, merged.window.start), end: max(s.window.end, merged.window.end))
            aggregate.merge(s.accumulator, into: &merged.accumulator)
            return true
        }
        if isEventTime && isWindowLate(merged.window, lateness: settings.allowedLateness) {
            try emitLate(value, timestamp: ts, tag: settings.lateTag)
            return
        }
        let at = list.firstIndex { $0.window.start > merged.window.start } ?? list.count
        list.insert(merged, at: at)
        sessions[key] = list
        let fireAt = merged.window.maxTimestamp
        if isEventTime {
            if settings.allowedLateness > 0 { timers.registerEventTime(fireAt + settings.allowedLateness, key: key, namespace: 1) }
            if fireAt <= currentWatermark {
                try emit(key, merged)  // late firing within lateness; a timer would fire it twice
            } else {
                timers.registerEventTime(fireAt, key: key, namespace: 0)
            }
        } else {
            timers.registerProcessingTime(fireAt, key: key, namespace: 0)
        }
    }

    private func emit(_ key: K, _ s: Session) throws {
        try emitWindowResult(key, s.window, s.accumulator, aggregate: aggregate, makeResult: makeResult, to: output)
    }

    /// A timer at `time`: fire the key's session ending there; drop sessions whose cleanup
    /// time (end + lateness) is reached.
    private func onTimer(_ timer: TimerEntry<K, Int8>, lateness: Int64) throws {
        guard var list = sessions[timer.key] else { return }
        if timer.namespace == 0, let s = list.first(where: { $0.window.maxTimestamp == timer.timestamp }) {
            try emit(timer.key, s)
        }
        list.removeAll { $0.window.maxTimestamp + lateness <= timer.timestamp }
        sessions[timer.key] = list.isEmpty ? nil : list
    }

    override func onWatermark(_ watermark: Timestamp) throws {
        guard isEventTime else { return }
        try fireEventTimers(watermark)
    }

    override func nextProcessingTime() -> Timestamp? { isEventTime ? nil : timers.nextProcessingTime }

    override func onProcessingTime(_ now: Timestamp) throws {
        try fireProcessingTimers(now)
    }

    override func onFinish() throws {
        if !isEventTime { try flushAll() }
    }

    // MARK: checkpoints

    override func checkpointProblems() -> [String] {
        WindowStateCoders<K, A.Accumulator>.problems(operatorName: info.name)
    }

    /// Section "sessions", per key group: count, then per key its sessions (start, end,
    /// accumulator); and the timers.
    override func snapshotState(checkpointID: Int64) throws -> OperatorSnapshot? {
        let coders = try WindowStateCoders<K, A.Accumulator>.resolve(operatorName: info.name) { CheckpointFailure($0) }
        let keyCoder = coders.key, accCoder = coders.accumulator
        let copy = sessions
        let maxParallelism = info.maxParallelism
        let split = LazyValue { () -> [Int: [K]] in
            var byGroup: [Int: [K]] = [:]
            for key in copy.keys { byGroup[KeyGroups.keyGroup(of: key, maxParallelism: maxParallelism), default: []].append(key) }
            return byGroup
        }
        let sessionsSection = KeyedSection(name: "sessions") { group, w in
            let keys = split.value[group] ?? []
            w.writeVarint(keys.count)
            for k in keys {
                keyCoder.encode(k, &w)
                let list = copy[k]!
                w.writeVarint(list.count)
                for s in list { w.write(s.window.start); w.write(s.window.end); accCoder.encode(s.accumulator, &w) }
            }
        }
        return OperatorSnapshot(keyedSections: [sessionsSection, try timers.snapshotSection(maxParallelism: maxParallelism)])
    }

    override func restoreState(_ state: RestoredOperatorState) throws {
        let coders = try WindowStateCoders<K, A.Accumulator>.resolve(operatorName: info.name) { RestoreError($0) }
        let keyCoder = coders.key, accCoder = coders.accumulator
        for (_, bytes) in state.keyedSections["sessions"] ?? [] {
            var r = StateReader(bytes)
            for _ in 0..<(try r.readVarint()) {
                let key = try keyCoder.decode(&r)
                var list: [Session] = []
                for _ in 0..<(try r.readVarint()) {
                    list.append(Session(window: TimeWindow(start: try r.read(), end: try r.read()), accumulator: try accCoder.decode(&r)))
                }
                sessions[key] = list
            }
        }
        if let timerBlocks = state.keyedSections["timers"] { try timers.restore(timerBlocks) }
    }
}
