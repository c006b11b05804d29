import ArgumentParser

@main
struct VigilCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: a stream-processing AIOps engine.",
        discussion: """
            `vigil run` runs the AIOps job (without --brokers: a demo on an embedded Kafka \
            cluster); `vigil example` runs the runtime's example topology.
            """,
        subcommands: [RunCommand.self, ReplayCommand.self, DemoShopCommand.self, ProbesCommand.self, ExampleCommand.self, BrokerCommand.self, OTLPDumpCommand.self, KafkaPipeCommand.self, WindowCountCommand.self, LogsCommand.self, REDCommand.self, IncidentsCommand.self, RemediateCommand.self, ApproveCommand.self, AuditCommand.self, CheckCommand.self, BenchCommand.self, ExactlyOnceDemoCommand.self, CheckpointsCommand.self, SavepointCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
