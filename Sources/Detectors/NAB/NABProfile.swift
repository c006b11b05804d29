import Foundation

/// One of NAB's application profiles: how much a detected window, a missed window and a false
/// positive weigh (NAB's `config/profiles.json`; the true-negative weight is unused by NAB).
public struct NABProfile: Sendable, Equatable {
    public var name: String
    public var tpWeight: Double
    public var fpWeight: Double
    public var fnWeight: Double

    public init(name: String, tpWeight: Double, fpWeight: Double, fnWeight: Double) {
        self.name = name
        self.tpWeight = tpWeight
        self.fpWeight = fpWeight
        self.fnWeight = fnWeight
    }

    public static let standard = NABProfile(name: "standard", tpWeight: 1, fpWeight: 0.11, fnWeight: 1)
    public static let rewardLowFP = NABProfile(name: "reward_low_FP_rate", tpWeight: 1, fpWeight: 0.22, fnWeight: 1)
    public static let rewardLowFN = NABProfile(name: "reward_low_FN_rate", tpWeight: 1, fpWeight: 0.11, fnWeight: 2)
    /// NAB's three profiles, in the order its scoreboard lists them.
    public static let all = [standard, rewardLowFP, rewardLowFN]

    /// Reads a `profiles.json` as NAB writes it: `{name: {"CostMatrix": {"tpWeight": …}}}`.
    public static func load(from url: URL) throws -> [NABProfile] {
        let data = try Data(contentsOf: url)
        guard let top = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NABError("\(url.path): expected a JSON object of profiles")
        }
        return try top.keys.sorted().map { name in
            guard let profile = top[name] as? [String: Any], let costs = profile["CostMatrix"] as? [String: Any] else {
                throw NABError("\(url.path): profile '\(name)' has no CostMatrix object")
            }
            func weight(_ key: String) throws -> Double {
                guard let w = (costs[key] as? NSNumber)?.doubleValue else {
                    throw NABError("\(url.path): profile '\(name)' has no number \(key)")
                }
                return w
            }
            return NABProfile(name: name, tpWeight: try weight("tpWeight"), fpWeight: try weight("fpWeight"),
                              fnWeight: try weight("fnWeight"))
        }
    }
}

public struct NABError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
