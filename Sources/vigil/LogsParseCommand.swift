import ArgumentParser
import Detectors
import Foundation

/// `vigil logs`: the log template miner on files.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Log template mining: on files, and anomalies in OTLP logs from Kafka.",
        subcommands: [LogsParseCommand.self, LogsAnomaliesCommand.self]
    )
}

/// `vigil logs parse`: mines the templates of a log file, as Loghub's tools do, so anyone can
/// try the miner on their own logs.
struct LogsParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parses a log file into templates: a structured CSV with each line's event.",
        discussion: """
            --format uses Loghub's log_format syntax: <Field> placeholders, the message in \
            <Content>, e.g. '<Date> <Time> <Level>: <Content>'. Text between fields is a regex \
            fragment (escape brackets: '\\[<Pid>\\]'); spaces match any run of whitespace. \
            A line that does not match is reported on standard error with its line number and \
            left out of the output. Each output line has LineId (the line number in the input), \
            Content, EventId and EventTemplate; templates are reported as they stand after the \
            whole file, and --templates lists them with their number of lines.
            """
    )

    @Option(help: "Loghub log format, e.g. '<Date> <Time> <Level>: <Content>'.") var format: String
    @Option(name: .customLong("mask"), help: "A regex (Python/PCRE syntax) whose matches are parameters; repeatable.") var masks: [String] = []
    @Option(help: "Share of a template's tokens a line must match to join it (Drain's st).") var similarity = 0.5
    @Option(help: "Parse tree depth: token count, then depth-2 leading words.") var depth = 3
    @Option(help: "At most this many templates are kept (least recently used evicted).") var maxTemplates = 100_000
    @Option(help: "A position keeps up to this many different words as separate events before it becomes a parameter.") var maxConstantVariants = 3
    @Option(help: "The log file to parse.") var input: String
    @Option(help: "Where to write the structured CSV.") var output: String
    @Option(help: "Also write the templates (EventId, EventTemplate, Occurrences) here.") var templates: String?

    func run() throws {
        let logFormat: LogFormat
        do { logFormat = try LogFormat(format) } catch { throw ValidationError("\(error)") }
        let config = TemplateMinerConfig(similarity: similarity, depth: depth, masks: masks, maxTemplates: maxTemplates, maxConstantVariants: maxConstantVariants)
        if let problem = config.problem { throw ValidationError(problem) }
        let miner: TemplateMiner
        do { miner = try TemplateMiner(config: config) } catch { throw ValidationError("--mask: \(error)") }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: input), options: .alwaysMapped) else {
            throw ValidationError("cannot read --input \(input)")
        }

        let parse = TemplateAssignments(miner: miner)
        var parsed: [(line: Int, content: String)] = []
        var unmatched = 0
        data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            var lineNumber = 0
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                var lineEnd = end
                if lineEnd > start && all[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let line = UnsafeBufferPointer(rebasing: all[start..<lineEnd])
                if let content = logFormat.content(of: line) {
                    let message = UnsafeBufferPointer(rebasing: line[content])
                    parse.add(message)
                    parsed.append((lineNumber, String(decoding: message, as: UTF8.self)))
                } else if !line.isEmpty {
                    unmatched += 1
                    FileHandle.standardError.write(Data("\(input):\(lineNumber): does not match the log format '\(format)'\n".utf8))
                }
                start = end + 1
            }
        }

        // Event ids in order of first appearance of each final event template.
        var eventIDs: [String: String] = [:]
        var eventOrder: [String] = []
        var occurrences: [String: Int] = [:]
        guard FileManager.default.createFile(atPath: output, contents: nil), let out = FileHandle(forWritingAtPath: output) else {
            throw ValidationError("cannot write --output \(output)")
        }
        defer { try? out.close() }
        // Written in chunks: the whole file's CSV need not sit in memory at once.
        var csv = "LineId,Content,EventId,EventTemplate\n"
        for (p, template) in zip(parsed, parse.resolve()) {
            let id: String
            if let known = eventIDs[template] {
                id = known
            } else {
                id = "E\(eventIDs.count + 1)"
                eventIDs[template] = id
                eventOrder.append(template)
            }
            occurrences[template, default: 0] += 1
            csv += "\(p.line),\(Self.csvField(p.content)),\(id),\(Self.csvField(template))\n"
            if csv.utf8.count > 1 << 20 {
                try out.write(contentsOf: Data(csv.utf8))
                csv = ""
            }
        }
        try out.write(contentsOf: Data(csv.utf8))
        if let templates {
            var list = "EventId,EventTemplate,Occurrences\n"
            for t in eventOrder { list += "\(eventIDs[t]!),\(Self.csvField(t)),\(occurrences[t]!)\n" }
            try list.write(toFile: templates, atomically: true, encoding: .utf8)
        }
        FileHandle.standardError.write(Data("\(parsed.count) lines parsed into \(eventOrder.count) templates\(unmatched > 0 ? ", \(unmatched) line\(unmatched == 1 ? "" : "s") did not match the format" : "")\n".utf8))
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
