import Foundation

/// The graph of a window as JSON (for tools and UIs) and as Graphviz DOT (to look at).
extension GraphWindow {
    /// Nodes (kind, name), call edges with counts and latency percentiles (µs), runs-on and
    /// emits links; template ids are named when `templateNames` knows them.
    public func jsonObject(templateNames: [UInt64: String] = [:]) -> [String: Any] {
        var nodes = Set<Entity>()
        for k in calls.keys { nodes.insert(k.caller); nodes.insert(k.callee) }
        for l in runsOn { nodes.insert(l.from); nodes.insert(l.to) }
        for l in emits.keys { nodes.insert(l.from); nodes.insert(l.to) }
        for k in operations.keys { nodes.insert(.service(k.service)) }
        func node(_ e: Entity) -> [String: Any] {
            var n: [String: Any] = ["id": e.description, "kind": e.kind.label, "name": e.name]
            if e.kind == .logTemplate, let id = UInt64(e.name), let text = templateNames[id] { n["template"] = text }
            return n
        }
        var edges: [[String: Any]] = []
        for (k, c) in calls.sorted(by: { $0.key < $1.key }) {
            var edge: [String: Any] = ["from": k.caller.description, "to": k.callee.description, "kind": "calls", "count": c.count, "errors": c.errors]
            if let p50 = c.latency.quantile(0.5), let p99 = c.latency.quantile(0.99) { edge["latency_p50_us"] = p50; edge["latency_p99_us"] = p99 }
            if let wire = c.gap.quantile(0.5), c.gap.count > 0 { edge["wire_p50_us"] = wire }
            edges.append(edge)
        }
        for l in runsOn.sorted() { edges.append(["from": l.from.description, "to": l.to.description, "kind": "runs_on"]) }
        for (l, n) in emits.sorted(by: { $0.key < $1.key }) {
            edges.append(["from": l.from.description, "to": l.to.description, "kind": "emits", "count": n, "errors": emitsErrors[l] ?? 0])
        }
        let ops: [[String: Any]] = operations.sorted(by: { $0.key < $1.key }).map { k, o in
            var op: [String: Any] = ["service": k.service, "operation": k.operation, "count": o.count, "errors": o.errors]
            if let p50 = o.duration.quantile(0.5), let p99 = o.duration.quantile(0.99) { op["latency_p50_us"] = p50; op["latency_p99_us"] = p99 }
            return op
        }
        return ["start_ms": start, "end_ms": end, "nodes": nodes.sorted().map(node), "edges": edges, "operations": ops]
    }

    public func json(templateNames: [UInt64: String] = [:]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: jsonObject(templateNames: templateNames), options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
    }

    /// Services as boxes, pods and hosts as ellipses, peers as cylinders; call edges labelled
    /// with calls, errors and p99. Log templates are left out: there are too many to look at.
    public func dot() -> String {
        func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func shape(_ k: EntityKind) -> String {
            switch k {
            case .service: "box"
            case .peer: "cylinder"
            case .pod, .host: "ellipse"
            case .operation, .logTemplate: "note"
            }
        }
        var nodes = Set<Entity>()
        for k in calls.keys { nodes.insert(k.caller); nodes.insert(k.callee) }
        for l in runsOn { nodes.insert(l.from); nodes.insert(l.to) }
        var lines = ["digraph vigil {", "  rankdir=LR;"]
        for n in nodes.sorted() { lines.append("  \(quote(n.description)) [label=\(quote(n.name)), shape=\(shape(n.kind))];") }
        for (k, c) in calls.sorted(by: { $0.key < $1.key }) {
            var label = "\(c.count) calls"
            if c.errors > 0 { label += ", \(c.errors) errors" }
            if let p99 = c.latency.quantile(0.99) { label += String(format: ", p99 %.1f ms", p99 / 1000) }
            lines.append("  \(quote(k.caller.description)) -> \(quote(k.callee.description)) [label=\(quote(label))];")
        }
        for l in runsOn.sorted() { lines.append("  \(quote(l.from.description)) -> \(quote(l.to.description)) [style=dashed, label=\"runs on\"];") }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
