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
            var op = window.operations[key] ?? OperationStats()
            op.count += 1
            if s.isError { op.errors += 1 }
            let micros = Double(s.durationNanos) / 1000
            op.duration.add(micros)
            op.selfTime.add(Double(s.durationNanos > childNanos[i] ? s.durationNanos - childNanos[i] : 0) / 1000)
            var previous = TransitionKey.start
            if var lines = linesOf[s.spanID] {
                lines.sort { $0.time < $1.time }
                var seen = Set<UInt64>()
                for line in lines {
                    if seen.insert(line.template).inserted { op.spansWithTemplate[line.template, default: 0] += 1 }
                    // A line repeated back to back (a loop's iterations, or a line shipped
                    // twice) is one step: how often a loop runs is data, not a path change.
                    guard line.template != previous else { continue }
                    op.transitions[TransitionKey(from: previous, to: line.template), default: 0] += 1
                    previous = line.template
                }
            }
            op.transitions[TransitionKey(from: previous, to: TransitionKey.end), default: 0] += 1
            window.operations[key] = op

            if !s.pod.isEmpty {
                window.runsOn.insert(Link(from: .service(s.service), to: Entity(.pod, s.pod)))
                if !s.host.isEmpty { window.runsOn.insert(Link(from: Entity(.pod, s.pod), to: Entity(.host, s.host))) }
            } else if !s.host.isEmpty {
                window.runsOn.insert(Link(from: .service(s.service), to: Entity(.host, s.host)))
            }

            if !s.peer.isEmpty, s.kind == .client || s.kind == .producer {
                var call = window.calls[CallKey(caller: .service(s.service), callee: Entity(.peer, s.peer))] ?? CallStats()
                call.count += 1
                if s.isError { call.errors += 1 }
                call.latency.add(micros)
                window.calls[CallKey(caller: .service(s.service), callee: Entity(.peer, s.peer))] = call
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
            let key2 = CallKey(caller: .service(parent.service), callee: .service(s.service))
            var call = window.calls[key2] ?? CallStats()
            call.count += 1
            if s.isError { call.errors += 1 }
            call.latency.add(Double(parent.durationNanos) / 1000)
            call.gap.add(Double(parent.durationNanos > s.durationNanos ? parent.durationNanos - s.durationNanos : 0) / 1000)
            window.calls[key2] = call
        }
        return window
    }
}
