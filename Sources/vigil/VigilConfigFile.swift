import AIOps
import Foundation
import Remediate
import ArgumentParser
import Logging
import Yams

/// `vigil.yaml`: every knob of the built-in job in one file (the reference is
/// `docs/configuration.md`). Read with line numbers: an unknown key or a bad value is
/// reported as `FILE:LINE: reason`, all of them in one pass, before anything starts.
struct VigilConfigFile {
    var brokers: String?
    var job: AIOpsJobOptions
    var remediation: RemediationConfig?
    var demoFault: String?
    var demoSpeed: Double?

    /// Reads `path` over `base`: what the file sets replaces the value in `base`.
    /// A command's settings: the command line, overridden by `--config` when given (brokers
    /// on the command line win). A file with problems ends the command (exit 2) with each one.
    static func resolve(config: String?, brokers: String?, job: AIOpsJobOptions, command: String) throws -> VigilConfigFile {
        guard let config else { return VigilConfigFile(brokers: brokers, job: job) }
        var settings: VigilConfigFile
        do { settings = try load(path: config, over: job) } catch let e as ConfigError {
            FileHandle.standardError.write(Data("vigil \(command): the configuration has problems:\n\(e)\n".utf8))
            throw ExitCode(2)
        }
        settings.brokers = brokers ?? settings.brokers
        return settings
    }

    static func load(path: String, over base: AIOpsJobOptions) throws -> VigilConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError([ConfigProblem(file: path, line: 1, reason: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path, over: base)
    }

    static func parse(_ text: String, file: String, over base: AIOpsJobOptions) throws -> VigilConfigFile {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigError([ConfigProblem(file: file, line: PolicyFile.yamlErrorLine(error), reason: "not valid YAML: \(PolicyFile.yamlErrorReason(error))")])
        }
        var config = VigilConfigFile(job: base)
        guard let root else { return config }  // an empty file sets nothing
        let f = YAMLFields(file: file)
        let sections: Set<String> = ["kafka", "windows", "detectors", "incidents", "checkpoints", "output", "remediation", "demo"]
        for (key, _, value) in f.mapping(root, "the configuration", allowed: sections) ?? [] {
            switch key {
            case "kafka": config.readKafka(value, f)
            case "windows": config.readWindows(value, f)
            case "detectors": config.readDetectors(value, f)
            case "incidents":
                for (k, _, v) in f.mapping(value, "incidents", allowed: ["quiet"]) ?? [] where k == "quiet" {
                    if let s = seconds(v, "incidents.quiet", f) { config.job.quietSeconds = s }
                }
            case "checkpoints":
                for (k, _, v) in f.mapping(value, "checkpoints", allowed: ["dir", "interval"]) ?? [] {
                    if k == "dir" { config.job.state = f.string(v, "checkpoints.dir") ?? config.job.state }
                    else if let ms = f.durationMs(v, "checkpoints.interval") {
                        if ms > 0 { config.job.checkpointIntervalMs = ms } else { f.problem(v, "checkpoints.interval must be positive") }
                    }
                }
            case "output":
                for (_, _, v) in f.mapping(value, "output", allowed: ["dir"]) ?? [] { config.job.output = f.string(v, "output.dir") }
            case "remediation":
                config.remediation = PolicyFile.read(value, f)
            default:
                config.readDemo(value, f)
            }
        }
        if config.remediation != nil && config.job.state == nil {
            f.problem(root, "remediation needs checkpoints.dir: an action runs only once the checkpoint that records it is complete")
        }
        if !f.problems.isEmpty { throw ConfigError(f.problems) }
        return config
    }

    private mutating func readKafka(_ node: Node, _ f: YAMLFields) {
        let allowed: Set<String> = ["brokers", "group", "encoding", "dead_letter_topic", "topics", "signals", "max_delay"]
        for (key, _, v) in f.mapping(node, "kafka", allowed: allowed) ?? [] {
            switch key {
            case "brokers": brokers = f.string(v, "kafka.brokers")
            case "group": job.group = f.string(v, "kafka.group") ?? job.group
            case "encoding":
                guard let e = f.string(v, "kafka.encoding") else { continue }
                if ["otlp_proto", "otlp_json"].contains(e) { job.encoding = e } else { f.problem(v, "kafka.encoding: unknown '\(e)'; expected otlp_proto or otlp_json") }
            case "dead_letter_topic": job.deadLetterTopic = f.string(v, "kafka.dead_letter_topic") ?? job.deadLetterTopic
            case "topics":
                for (k, _, t) in f.mapping(v, "kafka.topics", allowed: ["spans", "logs", "metrics"]) ?? [] {
                    guard let topic = f.string(t, "kafka.topics.\(k)") else { continue }
                    switch k {
                    case "spans": job.spansTopic = topic
                    case "logs": job.logsTopic = topic
                    default: job.metricsTopic = topic
                    }
                }
            case "signals":
                guard let names = f.strings(v, "kafka.signals") else { continue }
                let signals = names.compactMap(AIOpsJobOptions.Signal.init(rawValue:))
                if signals.count != names.count || signals.isEmpty {
                    f.problem(v, "kafka.signals: expected some of spans, logs, metrics; got \(names.joined(separator: ", "))")
                } else {
                    job.signals = signals
                }
            default:
                if let ms = f.durationMs(v, "kafka.max_delay") { job.maxDelayMs = Int(ms) }
            }
        }
    }

    private mutating func readWindows(_ node: Node, _ f: YAMLFields) {
        for (key, _, v) in f.mapping(node, "windows", allowed: ["red", "graph", "logs"]) ?? [] {
            guard let s = Self.seconds(v, "windows.\(key)", f) else { continue }
            switch key {
            case "red": job.windowSeconds = s
            case "graph": job.graphWindowSeconds = s
            default: job.logWindowSeconds = s
            }
        }
    }

    private mutating func readDetectors(_ node: Node, _ f: YAMLFields) {
        for (key, _, v) in f.mapping(node, "detectors", allowed: ["red", "log_warmup_windows"]) ?? [] {
            if key == "red" {
                guard let name = f.string(v, "detectors.red") else { continue }
                if REDCommand.detectorNames.contains(name) { job.detector = name } else {
                    f.problem(v, "detectors.red: unknown '\(name)'; expected one of \(REDCommand.detectorNames.joined(separator: ", "))")
                }
            } else if let n = f.int(v, "detectors.log_warmup_windows", range: 0...10_000) {
                job.warmupWindows = n
            }
        }
    }

    private mutating func readDemo(_ node: Node, _ f: YAMLFields) {
        for (key, _, v) in f.mapping(node, "demo", allowed: ["fault", "speed"]) ?? [] {
            if key == "fault" {
                guard let name = f.string(v, "demo.fault") else { continue }
                if DemoApplication.Fault(rawValue: name) != nil { demoFault = name } else {
                    f.problem(v, "demo.fault: unknown '\(name)'; expected one of \(DemoApplication.Fault.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            } else if let s = v.float, v.scalar != nil, (1...1000).contains(s) {
                demoSpeed = s
            } else {
                f.problem(v, "demo.speed must be a number within 1...1000")
            }
        }
    }

    /// A window or period in whole seconds.
    static func seconds(_ v: Node, _ what: String, _ f: YAMLFields) -> Int? {
        guard let ms = f.durationMs(v, what) else { return nil }
        guard ms >= 1000, ms % 1000 == 0, ms / 1000 <= Int64(Int32.max) else {
            f.problem(v, "\(what) must be a positive whole number of seconds (e.g. 10s, 1m)")
            return nil
        }
        return Int(ms / 1000)
    }
}

/// Logs on stderr, warnings and worse: what the long-running commands show besides their output.
func bootstrapWarningLogging() {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = .warning
        return h
    }
}
