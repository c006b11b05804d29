/// Logical graph → physical plan: which nodes run chained in one task, and how the edges
/// between tasks map to inbox channels.
struct PhysicalPlan {
    struct Chain {
        /// Nodes in topological order, the head first.
        var nodes: [LogicalNode]
        var parallelism: Int { nodes[0].parallelism }
    }
    var chains: [Chain]
    /// node id → index of its chain
    var chainOf: [Int: Int]
    /// node id → whether its (single) input edge is chained
    var chainedInput: [Int: Bool]

    /// Two operators share a task when nothing needs to cross threads between them: the
    /// downstream node has one input, the same parallelism, and the edge keeps every record on
    /// its subtask (forward, or any partitioning when parallelism is 1 — hashing over one
    /// subtask is the identity).
    static func isChainable(_ edge: LogicalEdge, into node: LogicalNode) -> Bool {
        let from = edge.origin.node
        return node.inputs.count == 1 && !node.isSource && node.chainable
            && from.parallelism == node.parallelism
            && (edge.partitioning == .forward || node.parallelism == 1)
    }

    /// A non-chained forward edge between equal parallelisms connects subtask i to i only.
    static func isPointwise(_ edge: LogicalEdge, into node: LogicalNode) -> Bool {
        edge.partitioning == .forward && edge.origin.node.parallelism == node.parallelism
    }

    static func make(nodes: [LogicalNode]) throws -> PhysicalPlan {
        var chains: [Chain] = []
        var chainOf: [Int: Int] = [:]
        var chainedInput: [Int: Bool] = [:]
        // Node ids increase in creation order and a stream exists before it is used, so id order
        // is a topological order.
        for node in nodes.sorted(by: { $0.id < $1.id }) {
            guard node.parallelism >= 1 else { throw TopologyError("'\(node.name)' has parallelism \(node.parallelism)") }
            guard node.parallelism <= node.maxParallelism else {
                throw TopologyError("'\(node.name)' has parallelism \(node.parallelism) above its max parallelism \(node.maxParallelism)")
            }
            if !node.isSource && node.inputs.isEmpty { throw TopologyError("'\(node.name)' has no input") }
            if node.inputs.count == 1, isChainable(node.inputs[0], into: node),
               let upstream = chainOf[node.inputs[0].origin.node.id] {
                chains[upstream].nodes.append(node)
                chainOf[node.id] = upstream
                chainedInput[node.id] = true
            } else {
                chains.append(Chain(nodes: [node]))
                chainOf[node.id] = chains.count - 1
                chainedInput[node.id] = false
            }
        }
        return PhysicalPlan(chains: chains, chainOf: chainOf, chainedInput: chainedInput)
    }

    /// The nodes consuming each node's outputs, with the edge: node id → [(consumer, edge)].
    static func consumers(of nodes: [LogicalNode]) -> [Int: [(LogicalNode, LogicalEdge)]] {
        var result: [Int: [(LogicalNode, LogicalEdge)]] = [:]
        for node in nodes {
            for edge in node.inputs { result[edge.origin.node.id, default: []].append((node, edge)) }
        }
        return result
    }
}
