import ArgumentParser
import Foundation
import Remediate

/// `vigil check`: validates configuration without running anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validates a remediation policy file without running it.",
        discussion: "Exit status 0 when it is valid; otherwise 1, with one FILE:LINE: reason line per problem."
    )

    @Option(help: "Remediation policy file (YAML).") var policies: String

    func run() throws {
        do {
            let config = try PolicyFile.load(path: policies)
            print("\(policies): \(config.policies.count) policies, \(config.policies.reduce(0) { $0 + $1.actions.count }) actions: valid")
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(1)
        }
    }
}
