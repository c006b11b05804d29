/// Settings of the exchange between tasks.
public struct ExchangeConfig: Sendable {
    /// Records per batch handed from one task to another.
    public var batchSize: Int = 1024
    /// Batches (and control events) one input channel holds before its producer blocks.
    public var channelCapacity: Int = 8
    public init(batchSize: Int = 1024, channelCapacity: Int = 8) {
        self.batchSize = batchSize
        self.channelCapacity = channelCapacity
    }
}

/// Physical plan → running objects: one `StreamTask` per chain and subtask, their inboxes, and
/// the record writers and chained connections between their operators.
enum TaskBuilder {
    static func build(nodes: [LogicalNode], plan: PhysicalPlan, exchange: ExchangeConfig,
                      clock: any ProcessingClock, checkpointing: Bool) throws -> [StreamTask] {
        let consumers = PhysicalPlan.consumers(of: nodes)

        // Channel layout of each task's inbox: one channel per (input edge, upstream subtask).
        struct ChannelKey: Hashable { let edge: Int; let upstreamSubtask: Int }
        var channelIndex: [[[ChannelKey: Int]]] = []
        var inboxes: [[TaskInbox]] = []
        for chain in plan.chains {
            let head = chain.nodes[0]
            var perSubtask: [[ChannelKey: Int]] = []
            var chainInboxes: [TaskInbox] = []
            for s in 0..<chain.parallelism {
                var map: [ChannelKey: Int] = [:]
                if plan.chainedInput[head.id] != true {
                    for (e, edge) in head.inputs.enumerated() {
                        let upstream = PhysicalPlan.isPointwise(edge, into: head) ? [s] : Array(0..<edge.origin.node.parallelism)
                        for u in upstream { map[ChannelKey(edge: e, upstreamSubtask: u)] = map.count }
                    }
                }
                perSubtask.append(map)
                chainInboxes.append(TaskInbox(channels: map.count, capacityPerChannel: exchange.channelCapacity))
            }
            channelIndex.append(perSubtask)
            inboxes.append(chainInboxes)
        }

        // One per source (used only if its watermark strategy asks for alignment).
        var alignments: [Int: SourceSplitAlignment] = [:]
        for node in nodes where node.isSource { alignments[node.id] = SourceSplitAlignment(splits: node.parallelism) }

        var tasks: [StreamTask] = []
        for (c, chain) in plan.chains.enumerated() {
            let chainName = chain.nodes.map(\.name).joined(separator: " -> ")
            for s in 0..<chain.parallelism {
                let metrics = TaskMetrics(taskName: "\(chainName) (\(s + 1)/\(chain.parallelism))")
                var runtime = OperatorRuntime(clock: clock, metrics: metrics, checkpointing: checkpointing)
                var instances: [Int: OperatorInstance] = [:]
                for node in chain.nodes {
                    runtime.splitAlignment = alignments[node.id]
                    let info = OperatorInfo(
                        name: node.name, subtask: s, parallelism: node.parallelism, maxParallelism: node.maxParallelism,
                        keyGroups: KeyGroups.range(subtask: s, parallelism: node.parallelism, maxParallelism: node.maxParallelism),
                        uid: "\(node.id):\(node.name)")
                    instances[node.id] = try node.factory(OperatorBuildContext(info: info, runtime: runtime))
                }

                var writers: [any Flushable] = []
                for node in chain.nodes {
                    let instance = instances[node.id]!
                    let outgoing = consumers[node.id] ?? []
                    // Edges grouped by the output they leave from (main first, then side outputs).
                    var byOutput: [(String?, [(LogicalNode, LogicalEdge)])] = [(nil, [])]
                    for (consumer, edge) in outgoing {
                        if let i = byOutput.firstIndex(where: { $0.0 == edge.origin.sideOutputTag }) {
                            byOutput[i].1.append((consumer, edge))
                        } else {
                            byOutput.append((edge.origin.sideOutputTag, [(consumer, edge)]))
                        }
                    }
                    for (tag, edges) in byOutput {
                        let slot: OutputSlot
                        if tag == nil {
                            guard let main = instance.mainOutput else { continue }
                            slot = main
                        } else {
                            slot = edges[0].1.origin.makeSideSlot!(instance.op)
                        }
                        var pushes: [AnyObject] = []
                        var controls: [ControlTarget] = []
                        for (consumer, edge) in edges {
                            if plan.chainOf[consumer.id] == c && plan.chainedInput[consumer.id] == true {
                                let target = instances[consumer.id]!
                                pushes.append(target.inputs[edge.targetInput].push)
                                controls.append(ControlTarget(sink: target.op, input: edge.targetInput))
                                continue
                            }
                            let dc = plan.chainOf[consumer.id]!
                            let e = consumer.inputs.firstIndex { $0.origin.node === edge.origin.node
                                && $0.origin.sideOutputTag == edge.origin.sideOutputTag && $0.targetInput == edge.targetInput }!
                            let pointwise = PhysicalPlan.isPointwise(edge, into: consumer)
                            let downstream = pointwise ? [s] : Array(0..<consumer.parallelism)
                            let targets = downstream.map {
                                ChannelTarget(inbox: inboxes[dc][$0],
                                              channel: channelIndex[dc][$0][ChannelKey(edge: e, upstreamSubtask: s)]!)
                            }
                            let partitioning: Partitioning = pointwise ? .forward
                                : (edge.partitioning == .forward ? .rebalance : edge.partitioning)
                            let made = slot.makeWriter(WriterRequest(
                                targets: targets, partitioning: partitioning, keyGroupSelector: edge.keyGroupSelector,
                                maxParallelism: consumer.maxParallelism, batchSize: exchange.batchSize, metrics: metrics))
                            pushes.append(made.push)
                            controls.append(ControlTarget(sink: made.writer, input: 0))
                            writers.append(made.writer)
                        }
                        slot.bind(pushes, controls)
                    }
                }

                let head = chain.nodes[0]
                let headInstance = instances[head.id]!
                var bindings = [ChannelBinding?](repeating: nil, count: channelIndex[c][s].count)
                var gateSizes = [Int](repeating: 0, count: head.isSource ? 0 : headInstance.inputs.count)
                for (key, k) in channelIndex[c][s].sorted(by: { $0.value < $1.value }) {
                    let input = head.inputs[key.edge].targetInput
                    bindings[k] = ChannelBinding(drain: headInstance.inputs[input].drain, input: input, gateChannel: gateSizes[input])
                    gateSizes[input] += 1
                }
                tasks.append(StreamTask(
                    name: metrics.taskName, operators: chain.nodes.map { instances[$0.id]!.op },
                    source: headInstance.source, inbox: inboxes[c][s],
                    channels: bindings.map { $0! }, gateSizes: gateSizes, writers: writers,
                    metrics: metrics, clock: clock))
            }
        }
        return tasks
    }
}
