import Stream

/// What a node of the knowledge graph stands for.
public enum EntityKind: UInt8, Sendable, CaseIterable, Comparable {
    case service, operation, pod, host, peer, logTemplate

    public var label: String {
        switch self {
        case .service: "service"
        case .operation: "operation"
        case .pod: "pod"
        case .host: "host"
        case .peer: "peer"
        case .logTemplate: "log_template"
        }
    }

    public static func < (a: EntityKind, b: EntityKind) -> Bool { a.rawValue < b.rawValue }
}

/// A node of the knowledge graph. An operation's name is "service operation" so that two
/// services' operations of the same name stay apart; a log template's is its id.
public struct Entity: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: EntityKind
    public var name: String

    public init(_ kind: EntityKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static func service(_ name: String) -> Entity { Entity(.service, name) }
    public static func operation(service: String, _ name: String) -> Entity { Entity(.operation, service + " " + name) }

    public var description: String { "\(kind.label):\(name)" }

    public static func < (a: Entity, b: Entity) -> Bool { (a.kind, a.name) < (b.kind, b.name) }
}

extension Entity: StateCodable {
    public func encode(to w: inout StateWriter) { kind.rawValue.encode(to: &w); name.encode(to: &w) }
    public static func decode(from r: inout StateReader) throws -> Entity {
        let raw = try UInt8.decode(from: &r)
        guard let kind = EntityKind(rawValue: raw) else { throw StateDecodingError("entity kind \(raw)") }
        return Entity(kind, try .decode(from: &r))
    }
}
