/// What the policy engine remembers between incidents; checkpointed with the job.
public struct PolicyState: Codable, Sendable, Equatable {
    /// Names this state's decisions apart from those of any other run that started from
    /// nothing (decision ids, and so idempotency keys, must never repeat). Set once, when the
    /// state is created; restored with it.
    public var epoch: String
    public var sequence: UInt64 = 0
    /// Dedup key → the incident time until which it suppresses.
    public var dedupUntil: [String: Int64] = [:]
    /// Policy → incident time of its last firing.
    public var lastFired: [String: Int64] = [:]
    /// Policy → incident times of its firings still inside its rate-limit period.
    public var firings: [String: [Int64]] = [:]

    public init(epoch: String) { self.epoch = epoch }

    /// Dedup keys kept at most; past it the ones expiring first go (and are counted).
    static let dedupCapacity = 100_000
    public var dedupEvicted = 0
    var reportsSincePruning = 0

    /// Drops expired keys every 1024 reports (they are in every checkpoint until then), and
    /// past the capacity the keys that expire first.
    mutating func forgetExpired(before now: Int64) {
        reportsSincePruning += 1
        guard reportsSincePruning >= 1024 || dedupUntil.count > Self.dedupCapacity else { return }
        reportsSincePruning = 0
        dedupUntil = dedupUntil.filter { $0.value > now }
        if dedupUntil.count > Self.dedupCapacity {
            let keep = dedupUntil.sorted { $0.value > $1.value }.prefix(Self.dedupCapacity * 3 / 4)
            dedupEvicted += dedupUntil.count - keep.count
            dedupUntil = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}
