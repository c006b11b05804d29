import RCA

/// A simulated online shop of twelve services, for `vigil run`'s demo: requests enter at the
/// frontend, fan out along a call graph to two databases and a cache, and every server span
/// writes a log line with its code location, as an instrumented service would. After a while
/// a fault is injected — a slow database, or one service failing — and the telemetry shows it
/// the way real telemetry does: through the callers' latencies and errors and new log lines.
public struct DemoApplication: Sendable {
    public enum Fault: String, Sendable, CaseIterable {
        /// Queries to the orders database take 250 ms longer (normally about 3 ms).
        case databaseLatency = "db-latency"
        /// The payment service fails a third of its charges.
        case errorBurst = "error-burst"

        /// What the root cause is, as the knowledge graph names it.
        public var culprit: String { self == .databaseLatency ? "postgresql/orders" : "payment" }
        public var culpritService: String { self == .databaseLatency ? "orders" : "payment" }
        public var description: String {
            self == .databaseLatency ? "queries to the orders database (postgresql/orders) 250 ms slower"
                                     : "the payment service failing a third of its charges"
        }
    }

    /// A call: to another service's operation, or to a database or cache (a client span with
    /// `db.system`/`db.name`).
    indirect enum Call: Sendable {
        case service(Operation)
        case database(system: String, name: String, statement: String, meanMs: Double)
    }

    struct Operation: Sendable {
        var service: String
        var name: String
        var meanMs: Double
        var calls: [Call]
        /// The log line of a normal request, "LEVEL logger#line text".
        var line: String
    }

    public let fault: Fault
    /// Event time (ms) from which the fault is on, and until which.
    public let faultStartMs: Int64
    public let faultEndMs: Int64
    private var random: DemoRandom
    private var nextID: UInt64 = 1
    private let routes: [(weight: Int, op: Operation)]

    public init(fault: Fault, faultStartMs: Int64, faultEndMs: Int64, seed: UInt64 = 42) {
        self.fault = fault
        self.faultStartMs = faultStartMs
        self.faultEndMs = faultEndMs
        random = DemoRandom(seed: seed)
        routes = Self.shop()
    }

    /// The shop's call graph: frontend routes and what each calls.
    static func shop() -> [(weight: Int, op: Operation)] {
        func op(_ service: String, _ name: String, _ ms: Double, _ line: String, _ calls: [Call] = []) -> Operation {
            Operation(service: service, name: name, meanMs: ms, calls: calls, line: line)
        }
        let catalogDB = Call.database(system: "mysql", name: "catalog", statement: "SELECT products", meanMs: 2)
        let ordersDB = Call.database(system: "postgresql", name: "orders", statement: "INSERT orders", meanMs: 3)
        let redis = Call.database(system: "redis", name: "cart", statement: "HGETALL", meanMs: 0.5)
        let getProduct = op("catalog", "GetProduct", 2, "INFO c.catalog.ProductService#41 product loaded", [catalogDB])
        let listProducts = op("catalog", "ListProducts", 3, "INFO c.catalog.ProductService#63 products listed", [catalogDB])
        let recommend = op("recommendation", "ListRecommendations", 4, "INFO c.reco.Recommender#30 recommendations computed", [.service(listProducts)])
        let ads = op("ads", "GetAds", 1.5, "INFO c.ads.AdService#22 ads served")
        let getCart = op("cart", "GetCart", 1, "INFO c.cart.CartStore#18 cart read", [redis])
        let addItem = op("cart", "AddItem", 1.2, "INFO c.cart.CartStore#35 item added", [redis])
        let convert = op("currency", "Convert", 0.8, "INFO c.currency.Converter#12 amount converted")
        let charge = op("payment", "Charge", 6, "INFO c.payment.ChargeHandler#54 charge accepted")
        let quote = op("quote", "Quote", 1, "INFO c.quote.QuoteService#9 quote computed")
        let shipping = op("shipping", "GetQuote", 2, "INFO c.shipping.ShippingService#27 shipping quoted", [.service(quote)])
        let createOrder = op("orders", "CreateOrder", 2, "INFO c.orders.OrderRepository#44 order stored", [ordersDB])
        let email = op("email", "SendConfirmation", 3, "INFO c.email.Mailer#71 confirmation queued")
        let placeOrder = op("checkout", "PlaceOrder", 3, "INFO c.checkout.CheckoutService#120 order placed",
                            [.service(getCart), .service(convert), .service(charge), .service(shipping), .service(createOrder), .service(email)])
        return [
            (40, op("frontend", "GET /product/{id}", 2, "INFO c.frontend.Router#88 GET /product/{id} served", [.service(getProduct), .service(recommend), .service(ads)])),
            (25, op("frontend", "GET /", 2, "INFO c.frontend.Router#61 GET / served", [.service(listProducts), .service(ads)])),
            (20, op("frontend", "POST /cart", 1.5, "INFO c.frontend.Router#97 POST /cart served", [.service(addItem)])),
            (15, op("frontend", "POST /checkout", 2.5, "INFO c.frontend.Router#104 POST /checkout served", [.service(placeOrder)])),
        ]
    }

    /// One user request at `ms`: its spans and log lines.
    public mutating func request(at ms: Int64, spans: inout [ObservedSpan], logs: inout [RawLog]) {
        var pick = Int(random.next() % 100)
        var route = routes[0].op
        for r in routes { if pick < r.weight { route = r.op; break }; pick -= r.weight }
        _ = serve(route, parent: 0, startNanos: UInt64(ms) * 1_000_000, ms: ms, spans: &spans, logs: &logs)
    }

    private func faultOn(_ ms: Int64) -> Bool { ms >= faultStartMs && ms < faultEndMs }

    /// Serves `op` (a server span and its children); returns its duration and whether it failed.
    private mutating func serve(_ op: Operation, parent: UInt64, startNanos: UInt64, ms: Int64,
                                spans: inout [ObservedSpan], logs: inout [RawLog]) -> (nanos: UInt64, failed: Bool) {
        let server = newID()
        let pod = "\(op.service)-\(random.next() % 2)"
        let host = "node-\(op.service.count % 3)"
        var elapsed = nanos(ms: op.meanMs * random.jitter())
        var failed = false
        var lines: [(String, Bool)] = [(op.line, false)]
        for call in op.calls {
            let client = newID()
            switch call {
            case .service(let callee):
                let wire = nanos(ms: 0.3 * random.jitter())
                let (d, calleeFailed) = serve(callee, parent: client, startNanos: startNanos + elapsed + wire / 2, ms: ms, spans: &spans, logs: &logs)
                spans.append(ObservedSpan(service: op.service, operation: callee.name, pod: pod, host: host, spanID: client, parentSpanID: server,
                                          kind: .client, startNanos: startNanos + elapsed, durationNanos: d + wire, isError: calleeFailed))
                elapsed += d + wire
                if calleeFailed {
                    failed = true
                    lines.append(("ERROR c.\(op.service).Client#\(200 + callee.name.count) call to \(callee.service) \(callee.name) failed", true))
                }
            case .database(let system, let name, let statement, let meanMs):
                var d = nanos(ms: meanMs * random.jitter())
                if fault == .databaseLatency && name == "orders" && faultOn(ms) {
                    d += nanos(ms: 250 * random.jitter())
                    lines.append(("WARN c.\(op.service).OrderRepository#57 slow query on \(system)/\(name): \(d / 1_000_000) ms", false))
                }
                spans.append(ObservedSpan(service: op.service, operation: statement, pod: pod, host: host, peer: "\(system)/\(name)",
                                          spanID: client, parentSpanID: server, kind: .client, startNanos: startNanos + elapsed, durationNanos: d))
                elapsed += d
            }
        }
        if fault == .errorBurst && op.service == "payment" && faultOn(ms) && random.next() % 3 == 0 {
            failed = true
            lines = [("ERROR c.payment.ChargeHandler#88 card processor rejected the charge: upstream 503", true)]
        }
        spans.append(ObservedSpan(service: op.service, operation: op.name, pod: pod, host: host, spanID: server, parentSpanID: parent,
                                  kind: .server, startNanos: startNanos, durationNanos: elapsed, isError: failed))
        for (i, (text, isError)) in lines.enumerated() {
            let location = String(text.split(separator: " ")[1])
            logs.append(RawLog(timeNanos: startNanos + UInt64(i) * 1000, service: op.service, pod: pod, spanID: server, text: text,
                               codeLocation: location, isError: isError))
        }
        return (elapsed, failed)
    }

    private mutating func newID() -> UInt64 { defer { nextID += 1 }; return nextID }
    private func nanos(ms: Double) -> UInt64 { UInt64(max(0, ms) * 1_000_000) }
}

/// SplitMix64, with a latency jitter: the same seed gives the same shop on every machine.
struct DemoRandom: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A factor around 1 with a long right tail (0.6…~3), as latencies have.
    mutating func jitter() -> Double {
        let u = Double(next() >> 11) / Double(1 << 53)
        return 0.6 + 0.8 * u + (u > 0.97 ? 1.5 * (u - 0.97) / 0.03 : 0)
    }
}
