/// Joins one window's spans with their parents, children and log lines into the window's graph.
enum WindowAssembler {
    static func assemble(_ pending: KnowledgeGraph.PendingWindow, start: Int64, end: Int64,
                         previousSpans: [UInt64: KnowledgeGraph.SpanBrief]) -> GraphWindow {
        var window = GraphWindow(start: start, end: end)
        var byID: [UInt64: Int] = [:]
        byID.reserveCapacity(pending.spans.count)
        for (i, s) in pending.spans.enumerated() where s.spanID != 0 { byID[s.spanID] = i }

        var childNanos = [UInt64](repeating: 0, count: pending.spans.count)
        for s in pending.spans where s.parentSpanID != 0 {
            if let p = byID[s.parentSpanID] { childNanos[p] &+= s.durationNanos }
        }

        // Each span's lines in time order (ties by arrival).
        var linesOf: [UInt64: [(time: UInt64, template: UInt64)]] = [:]
        for log in pending.logs {
            let emit = Link(from: .service(log.service), to: Entity(.logTemplate, String(log.templateID)))
            window.emits[emit, default: 0] += 1
            if log.isError { window.emitsErrors[emit, default: 0] += 1 }
            if !log.pod.isEmpty { window.runsOn.insert(Link(from: .service(log.service), to: Entity(.pod, log.pod))) }
            if log.spanID != 0, byID[log.spanID] != nil { linesOf[log.spanID, default: []].append((log.timeNanos, log.templateID)) }
        }

        for (i, s) in pending.spans.enumerated() {
            let key = OperationKey(service: s.service, operation: s.operation)
            let micros = Double(s.durationNanos) / 1000
            // Changed in place: a copy taken out of the dictionary would copy the sketches'
            // buckets on every span (copy-on-write with two owners).
            record(s, selfNanos: s.durationNanos > childNanos[i] ? s.durationNanos - childNanos[i] : 0,
                   lines: linesOf[s.spanID], into: &window.operations[key, default: OperationStats()])

            if !s.pod.isEmpty {
                window.runsOn.insert(Link(from: .service(s.service), to: Entity(.pod, s.pod)))
                if !s.host.isEmpty { window.runsOn.insert(Link(from: Entity(.pod, s.pod), to: Entity(.host, s.host))) }
            } else if !s.host.isEmpty {
                window.runsOn.insert(Link(from: .service(s.service), to: Entity(.host, s.host)))
            }

            if !s.peer.isEmpty, s.kind == .client || s.kind == .producer {
                window.calls[CallKey(caller: .service(s.service), callee: Entity(.peer, s.peer)), default: CallStats()].record(latencyMicros: micros, gapMicros: nil, isError: s.isError)
            }

            guard s.parentSpanID != 0 else { continue }
            let parent: KnowledgeGraph.SpanBrief
            if let p = byID[s.parentSpanID] {
                let ps = pending.spans[p]
                parent = .init(service: ps.service, durationNanos: ps.durationNanos, kind: ps.kind)
            } else if let p = previousSpans[s.parentSpanID] {
                parent = p
            } else {
                continue
            }
            guard parent.service != s.service else { continue }
            window.calls[CallKey(caller: .service(parent.service), callee: .service(s.service)), default: CallStats()]
                .record(latencyMicros: Double(parent.durationNanos) / 1000,
                        gapMicros: Double(parent.durationNanos > s.durationNanos ? parent.durationNanos - s.durationNanos : 0) / 1000,
                        isError: s.isError)
        }
        return window
    }

    static func record(_ s: ObservedSpan, selfNanos: UInt64, lines: [(time: UInt64, template: UInt64)]?, into op: inout OperationStats) {
        op.count += 1
        if s.isError { op.errors += 1 }
        op.duration.add(Double(s.durationNanos) / 1000)
        op.selfTime.add(Double(selfNanos) / 1000)
        var previous = TransitionKey.start
        if var lines {
            lines.sort { $0.time < $1.time }
            var seen = Set<UInt64>()
            for line in lines {
                if seen.insert(line.template).inserted { op.spansWithTemplate[line.template, default: 0] += 1 }
                // A line repeated back to back (a loop's iterations, or a line shipped twice)
                // is one step: how often a loop runs is data, not a path change.
                guard line.template != previous else { continue }
                op.transitions[TransitionKey(from: previous, to: line.template), default: 0] += 1
                previous = line.template
            }
        }
        op.transitions[TransitionKey(from: previous, to: TransitionKey.end), default: 0] += 1
    }
}

extension CallStats {
    mutating func record(latencyMicros: Double, gapMicros: Double?, isError: Bool) {
        count += 1
        if isError { errors += 1 }
        latency.add(latencyMicros)
        if let gapMicros { gap.add(gapMicros) }
    }
}
