import ArgumentParser
import Foundation
import Remediate

/// `vigil check`: validates configuration without running anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validates a configuration file (vigil.yaml) or a remediation policy file without running anything.",
        discussion: "Exit status 0 when it is valid; otherwise 1, with one FILE:LINE: reason line per problem."
    )

    @Option(help: "Configuration file of vigil run (docs/configuration.md), remediation policies included.") var config: String?
    @Option(help: "Remediation policy file (docs/remediation.md).") var policies: String?

    func validate() throws {
        guard config != nil || policies != nil else { throw ValidationError("give --config FILE or --policies FILE") }
    }

    func run() throws {
        var problems: [ConfigProblem] = []
        if let config {
            do {
                let c = try VigilConfigFile.load(path: config, over: AIOpsJobOptions.parse([]))
                print("\(config): valid" + (c.remediation.map { p in ", with \(Self.count(p))" } ?? ""))
            } catch let e as ConfigError { problems += e.problems }
        }
        if let policies {
            do { print("\(policies): \(Self.count(try PolicyFile.load(path: policies))): valid") } catch let e as ConfigError { problems += e.problems }
        }
        if !problems.isEmpty {
            FileHandle.standardError.write(Data((problems.map(\.description).joined(separator: "\n") + "\n").utf8))
            throw ExitCode(1)
        }
    }

    static func count(_ c: RemediationConfig) -> String {
        "\(c.policies.count) policies, \(c.policies.reduce(0) { $0 + $1.actions.count }) actions"
    }
}
