@testable import RCA

/// Builds small synthetic systems: traffic through a call chain, with faults injected where a
/// test says, replayed through the knowledge graph minute by minute.
struct SyntheticSystem {
    var graph = KnowledgeGraph(config: KnowledgeGraphConfig(windowMillis: 60_000, retainedWindows: 30, allowedLatenessMillis: 0))
    /// Everything sent to the graph, in order, for tests that feed an operator instead.
    var recorded: [RCAInput] = []
    private var nextID: UInt64 = 1

    mutating func add(_ s: ObservedSpan) { graph.add(s); recorded.append(.span(s)) }
    mutating func add(_ l: ObservedLog) { graph.add(l); recorded.append(.log(l)) }

    /// One request down `chain` (each service calls the next) at `second`: a client span in
    /// the caller, a server span in the callee. `wire` is added between a caller and `slowLink`;
    /// `selfMicros` is each service's own time; `lines` are (service, template) log lines in
    /// the server span.
    mutating func request(chain: [String], second: Int, selfMicros: [String: UInt64] = [:], wireMicros: UInt64 = 200,
                          slowLink: String? = nil, slowWireMicros: UInt64 = 0, lines: [String: [UInt64]] = [:], errors: Set<String> = []) {
        let base = UInt64(second) * 1_000_000_000
        // Durations from the bottom up.
        var serverDuration: [UInt64] = Array(repeating: 0, count: chain.count)
        var clientDuration: [UInt64] = Array(repeating: 0, count: chain.count)
        for i in chain.indices.reversed() {
            let own = (selfMicros[chain[i]] ?? 1000) * 1000
            serverDuration[i] = own + (i + 1 < chain.count ? clientDuration[i + 1] : 0)
            let wire = (chain[i] == slowLink ? slowWireMicros : wireMicros) * 1000
            clientDuration[i] = serverDuration[i] + wire
        }
        var parent: UInt64 = 0
        for (i, service) in chain.enumerated() {
            let server = nextID
            nextID += 1
            add(ObservedSpan(service: service, operation: "handle", pod: "\(service)-pod", host: "node-1", spanID: server, parentSpanID: parent,
                                   kind: .server, startNanos: base, durationNanos: serverDuration[i], isError: errors.contains(service)))
            for (n, t) in (lines[service] ?? []).enumerated() {
                add(ObservedLog(timeNanos: base + UInt64(n), service: service, pod: "\(service)-pod", spanID: server, templateID: t, isError: t >= 900))
            }
            if i + 1 < chain.count {
                let client = nextID
                nextID += 1
                add(ObservedSpan(service: service, operation: "call \(chain[i + 1])", spanID: client, parentSpanID: server, kind: .client,
                                       startNanos: base, durationNanos: clientDuration[i + 1]))
                parent = client
            }
        }
    }

    /// The incident window [from, to) seconds against everything before it.
    mutating func input(incidentFrom from: Int, to: Int) -> RankingInput {
        graph.flush()
        let current = graph.window(from: Int64(from) * 1000, to: Int64(to) * 1000)!
        let baseline = graph.window(from: 0, to: Int64(from) * 1000)!
        let indicators = IndicatorExtractor().indicators(current: current, baseline: baseline)
        return RankingInput(current: current, baseline: baseline, indicators: indicators)
    }
}
