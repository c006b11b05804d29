/// Who is next to whom in the knowledge graph, regardless of direction: services linked by
/// calls, services to their pods, pods to their hosts. Incidents group anomalies that are close
/// in this sense.
public struct GraphTopology: Sendable {
    var neighbours: [Entity: Set<Entity>] = [:]

    public init(_ windows: some Sequence<GraphWindow>) {
        for w in windows {
            for k in w.calls.keys { link(k.caller, k.callee) }
            for l in w.runsOn { link(l.from, l.to) }
        }
    }

    mutating func link(_ a: Entity, _ b: Entity) {
        neighbours[a, default: []].insert(b)
        neighbours[b, default: []].insert(a)
    }

    /// Whether `a` is within `hops` links of any of `targets` (itself included).
    public func isNear(_ a: Entity, _ targets: Set<Entity>, hops: Int) -> Bool {
        if targets.contains(a) { return true }
        var frontier: Set<Entity> = [a]
        var seen: Set<Entity> = [a]
        for _ in 0..<hops {
            var next: Set<Entity> = []
            for e in frontier {
                for n in neighbours[e] ?? [] where seen.insert(n).inserted {
                    if targets.contains(n) { return true }
                    next.insert(n)
                }
            }
            frontier = next
            if frontier.isEmpty { break }
        }
        return false
    }
}
