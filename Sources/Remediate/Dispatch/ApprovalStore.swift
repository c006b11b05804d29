import Foundation
import Stream

/// Actions waiting for a human, on local disk so that `vigil approve` (another process) and a
/// restarted job see the same thing:
///
///     approvals/pending/ID.json   the decision and its expiry, written by the dispatcher
///     approvals/decided/ID.json   {"approved": true|false, "by": …, "at": …}, by `vigil approve`
///
/// The dispatcher acts on a decided request (or an expired one), audits it, then removes the
/// pending file: a crash in between acts again, and the audit log makes that a no-op.
public struct ApprovalStore: Sendable {
    public struct Request: Codable, Sendable {
        public var entry: OutboxEntry
        public var requestedAtMs: Int64
        public var expiresAtMs: Int64
    }

    public struct Decision: Codable, Sendable {
        public var approved: Bool
        public var by: String
        public var atMs: Int64
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: String
    var pendingDir: String { directory + "/pending" }
    var decidedDir: String { directory + "/decided" }

    public init(directory: String) throws {
        self.directory = directory
        try DurableFiles.makeDirectory(directory + "/pending")
        try DurableFiles.makeDirectory(directory + "/decided")
    }

    static func validID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy { ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Records a request unless it exists (a restart asks again).
    func request(_ entry: OutboxEntry, nowMs: Int64) throws {
        let path = "\(pendingDir)/\(entry.id).json"
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let r = Request(entry: entry, requestedAtMs: nowMs, expiresAtMs: nowMs + (entry.approvalTimeoutMs ?? 0))
        try DurableFiles.write(Array(try JSONEncoder().encode(r)), to: path)
    }

    public func pending() -> [Request] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: pendingDir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            FileManager.default.contents(atPath: "\(pendingDir)/\(name)").flatMap { try? JSONDecoder().decode(Request.self, from: $0) }
        }
    }

    public func decision(_ id: String) -> Decision? {
        FileManager.default.contents(atPath: "\(decidedDir)/\(id).json").flatMap { try? JSONDecoder().decode(Decision.self, from: $0) }
    }

    /// What `vigil approve` does: refuses an unknown, already decided or expired request.
    public func decide(_ id: String, approved: Bool, by: String, nowMs: Int64) throws -> Request {
        guard Self.validID(id) else { throw Refusal(description: "'\(id)' is not an approval id (letters, digits and '-')") }
        guard let data = FileManager.default.contents(atPath: "\(pendingDir)/\(id).json"),
              let request = try? JSONDecoder().decode(Request.self, from: data) else {
            throw Refusal(description: "no action is waiting for approval under id \(id) (see vigil approve --list)")
        }
        if let d = decision(id) { throw Refusal(description: "\(id) was already \(d.approved ? "approved" : "rejected") by \(d.by)") }
        guard nowMs < request.expiresAtMs else { throw Refusal(description: "\(id) expired; the dispatcher will record it as such") }
        let d = Decision(approved: approved, by: by, atMs: nowMs)
        try DurableFiles.write(Array(try JSONEncoder().encode(d)), to: "\(decidedDir)/\(id).json")
        return request
    }

    func close(_ id: String) throws {
        try? FileManager.default.removeItem(atPath: "\(pendingDir)/\(id).json")
        try DurableFiles.syncDirectory(pendingDir)
    }
}
