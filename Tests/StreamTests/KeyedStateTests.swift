import XCTest
@testable import Stream

/// Keyed state kinds, TTL and timers on the deterministic harness.
final class KeyedStateTests: XCTestCase {
    /// Counts per key with ValueState, remembers values with ListState and MapState.
    struct Tracker: KeyedProcessFunction, Sendable {
        typealias Key = String
        var count: ValueState<String, Int>!
        var history: ListState<String, Int>!
        var byValue: MapState<String, Int, Int>!
        var total: ReducingState<String, Int>!
        var stats: AggregatingState<String, StatsAggregate<Int>>!

        mutating func open(_ ctx: KeyedContext<String, String>) throws {
            count = try ctx.valueState("count")
            history = try ctx.listState("history")
            byValue = try ctx.mapState("byValue")
            total = try ctx.reducingState("total", reduce: +)
            stats = try ctx.aggregatingState("stats", StatsAggregate<Int> { Double($0) })
        }

        func processElement(_ e: Event, _ ctx: KeyedContext<String, String>) throws {
            let c = (count.value ?? 0) + 1
            count.update(c)
            history.add(e.value)
            byValue.put(e.value, (byValue[e.value] ?? 0) + 1)
            try total.add(e.value)
            stats.add(e.value)
            try ctx.emit("\(ctx.key) n=\(c) hist=\(history.values) distinct=\(byValue.entries.count) total=\(total.value!) max=\(stats.value!.max)")
        }
    }

    func testEachStateKindIsScopedToTheCurrentKey() throws {
        let h = StreamTestHarness(of: Event.self) { $0.keyBy(\.key).process(Tracker()) }
        try h.send(Event("a", 5, at: 1))
        try h.send(Event("b", 7, at: 2))
        try h.send(Event("a", 5, at: 3))
        try h.send(Event("a", 9, at: 4))
        XCTAssertEqual(h.output, [
            "a n=1 hist=[5] distinct=1 total=5 max=5.0",
            "b n=1 hist=[7] distinct=1 total=7 max=7.0",
            "a n=2 hist=[5, 5] distinct=1 total=10 max=5.0",
            "a n=3 hist=[5, 5, 9] distinct=2 total=19 max=9.0",
        ])
    }

    func testValueStateTTLExpiresInProcessingTime() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).process { (e: Event, ctx: KeyedContext<String, String>) in
                let seen = try ctx.valueState("seen", Int.self, ttl: StateTTL(.seconds(10)))
                try ctx.emit("\(e.key): \(seen.value.map(String.init) ?? "none")")
                seen.update(e.value)
            }
        }
        try h.send(Event("a", 1, at: 0))
        try h.advanceProcessingTime(to: 9_999)
        try h.send(Event("a", 2, at: 0))  // read at 9.999 s: still there; written again
        try h.advanceProcessingTime(to: 19_998)
        try h.send(Event("a", 3, at: 0))  // 9.999 s after the last write: there
        try h.advanceProcessingTime(to: 29_998)
        try h.send(Event("a", 4, at: 0))  // exactly 10 s after: expired
        XCTAssertEqual(h.output, ["a: none", "a: 1", "a: 2", "a: none"])
    }

    func testTTLUpdatedOnReadKeepsFrequentlyReadStateAlive() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).process { (e: Event, ctx: KeyedContext<String, String>) in
                let s = try ctx.valueState("s", Int.self, ttl: StateTTL(.seconds(10), updateType: .onReadAndWrite))
                if e.value > 0 { s.update(e.value) }
                try ctx.emit(s.value.map(String.init) ?? "none")
            }
        }
        try h.send(Event("a", 1, at: 0))
        for t in stride(from: 8_000, through: 40_000, by: 8_000) {
            try h.advanceProcessingTime(to: Timestamp(t))
            try h.send(Event("a", 0, at: 0))  // read only
        }
        XCTAssertEqual(Set(h.output), ["1"])
    }

    func testEventAndProcessingTimeTimersFireOncePerKeyAndTime() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).process(onTimer: { t, domain, ctx in
                try ctx.emit("\(ctx.key) \(domain == .eventTime ? "event" : "processing") timer \(t) (ts \(ctx.timestamp))")
            }) { (e: Event, ctx: KeyedContext<String, String>) in
                ctx.registerEventTimeTimer(at: e.ts + 100)
                ctx.registerEventTimeTimer(at: e.ts + 100)  // idempotent
                ctx.registerProcessingTimeTimer(at: 5_000)
                if e.value < 0 { ctx.deleteEventTimeTimer(at: e.ts + 100) }
            }
        }
        try h.send(Event("a", 1, at: 1_000), at: 1_000)
        try h.send(Event("b", 1, at: 1_000), at: 1_000)
        try h.send(Event("c", -1, at: 1_000), at: 1_000)  // deletes its event timer
        try h.watermark(1_099)
        XCTAssertEqual(h.output, [])
        try h.watermark(1_100)
        XCTAssertEqual(h.takeOutput().sorted(), ["a event timer 1100 (ts 1100)", "b event timer 1100 (ts 1100)"])
        try h.advanceProcessingTime(to: 5_000)
        XCTAssertEqual(h.takeOutput().sorted(), ["a processing timer 5000 (ts 5000)", "b processing timer 5000 (ts 5000)",
                                                 "c processing timer 5000 (ts 5000)"])
    }

    func testRollingReduceEmitsEveryUpdate() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).reduce { a, b in Event(a.key, a.value + b.value, at: max(a.ts, b.ts)) }.map(\.value)
        }
        for (k, v) in [("a", 1), ("b", 10), ("a", 2), ("a", 3)] { try h.send(Event(k, v, at: 0)) }
        XCTAssertEqual(h.output, [1, 10, 3, 6])
    }

    func testRegisteringOneStateNameWithTwoTypesIsAnError() throws {
        let h = StreamTestHarness(of: Event.self) { events in
            events.keyBy(\.key).process { (e: Event, ctx: KeyedContext<String, Int>) in
                _ = try ctx.valueState("x", Int.self)
                _ = try ctx.valueState("x", String.self)
            }
        }
        XCTAssertThrowsError(try h.send(Event("k", 1, at: 0))) { error in
            XCTAssertTrue("\(error)".contains("state 'x' is registered as"), "\(error)")
        }
    }

    func testStateIsEnumerableByKeyGroup() throws {
        let backend = KeyedStateBackend<String>(keyGroups: KeyGroupRange(start: 0, endExclusive: 128),
                                                maxParallelism: 128, clock: ManualClock())
        let state = try backend.register("v") { ValueState<String, Int>(name: "v", backend: backend, ttl: nil) }
        let keys = (0..<500).map { "key-\($0)" }
        for (i, k) in keys.enumerated() { backend.setCurrentKey(k); state.update(i) }
        var seen: [String] = []
        for g in 0..<128 {
            for k in state.keys(inKeyGroup: g) {
                let key = k.base as! String
                XCTAssertEqual(KeyGroups.keyGroup(of: key, maxParallelism: 128), g)
                seen.append(key)
            }
        }
        XCTAssertEqual(seen.sorted(), keys.sorted())
        XCTAssertEqual(backend.entryCount, 500)
    }

    func testPurgeExpiredDropsOnlyExpiredEntriesAndWritesRestartTheClock() throws {
        let clock = ManualClock(startingAt: 0)
        let backend = KeyedStateBackend<Int>(keyGroups: KeyGroupRange(start: 0, endExclusive: 128),
                                             maxParallelism: 128, clock: clock)
        let list = try backend.register("l") { ListState<Int, Int>(name: "l", backend: backend, ttl: StateTTL(.seconds(10))) }
        for k in 0..<10 { backend.setCurrentKey(k); list.add(k) }
        clock.set(6_000)
        for k in 0..<5 { backend.setCurrentKey(k); list.add(100) }  // a write: these keys' clocks restart
        clock.set(12_000)
        XCTAssertEqual(list.purgeExpired(), 5, "keys 5...9 were last written 12 s ago")
        XCTAssertEqual(list.entryCount, 5)
        backend.setCurrentKey(3)
        XCTAssertEqual(list.values, [3, 100])
        backend.setCurrentKey(7)
        XCTAssertEqual(list.values, [])
    }
}

final class KeyGroupTests: XCTestCase {
    func testRangesPartitionAllKeyGroupsForAnyParallelism() {
        for p in [1, 2, 3, 4, 7, 128] {
            var covered: [Int] = []
            for s in 0..<p {
                let r = KeyGroups.range(subtask: s, parallelism: p, maxParallelism: 128)
                for g in r.start..<r.endExclusive {
                    XCTAssertEqual(KeyGroups.subtask(forKeyGroup: g, maxParallelism: 128, parallelism: p), s)
                    covered.append(g)
                }
            }
            XCTAssertEqual(covered, Array(0..<128), "parallelism \(p)")
        }
    }

    func testStableHashesDoNotDependOnTheProcess() {
        // Fixed values: a change here breaks restoring checkpoints written by older builds.
        // Computed independently (FNV-1a 64 and MurmurHash3's fmix64 in Python).
        XCTAssertEqual("checkout".stableHash, 0x42fb_b229_c28a_2459)
        XCTAssertEqual(42.stableHash, 42)
        XCTAssertEqual(KeyGroups.keyGroup(of: "checkout", maxParallelism: 128), 4)
    }
}
