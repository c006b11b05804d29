import ArgumentParser

@main
struct VigilCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: a stream-processing AIOps engine.",
        discussion: """
            Today `vigil run` runs the example topology on the dataflow runtime. The AIOps job \
            (Kafka, OTLP, detectors, root-cause ranking) replaces it as those parts land.
            """,
        subcommands: [RunCommand.self, BrokerCommand.self, OTLPDumpCommand.self, KafkaPipeCommand.self, LogsCommand.self, REDCommand.self, IncidentsCommand.self, RemediateCommand.self, ApproveCommand.self, AuditCommand.self, CheckCommand.self, BenchCommand.self, ExactlyOnceDemoCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
