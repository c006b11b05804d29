import Foundation
import Stream
#if canImport(Glibc)
import Glibc
#endif

/// One line of the audit log: one decision or one step of one action.
public struct AuditRecord: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable, CaseIterable {
        case suppressed, dryRun = "dry_run", awaitingApproval = "awaiting_approval", approved, rejected, expired
        case started, executed, failed, interrupted

        /// Events after which an action is finished with: it is never run again.
        var endsAction: Bool { [.dryRun, .executed, .failed, .interrupted].contains(self) }
    }

    /// Wall-clock time of the line (RFC 3339, UTC).
    public var time: String
    public var event: Event
    /// The decision (`OutboxEntry.id`); also the approval id.
    public var decision: String
    public var policy: String
    public var incident: UInt64
    public var action: Int?
    public var kind: String?
    public var idempotencyKey: String?
    /// The reason, the rendered action, or its outcome (status code, exit status, output).
    public var detail: String

    public init(event: Event, entry: OutboxEntry, action: PlannedAction? = nil, detail: String, now: Date = Date()) {
        time = WebhookBodies.rfc3339(Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))
        self.event = event
        decision = entry.id
        policy = entry.policy
        incident = entry.incidentID
        self.action = action?.index
        kind = action?.kind
        idempotencyKey = action?.idempotencyKey
        self.detail = detail
    }
}

/// Append-only JSON lines on local disk. A line that a later step depends on is fsynced
/// before that step: an exec action's `started` before the program runs, and everything a
/// ready outbox file or an approval led to before the file is marked done or the approval
/// closed. Lines in between are written at once and synced with the next of those (a crash
/// may lose them; the step they record is then repeated, as at-least-once allows, or for
/// exec, recorded as interrupted).
public final class AuditLog: @unchecked Sendable {
    // @unchecked: appends are serialised by `lock`.
    public let path: String
    private let lock = NSLock()
    private let encoder: JSONEncoder
    private let fd: Int32

    public init(path: String) throws {
        try DurableFiles.makeDirectory((path as NSString).deletingLastPathComponent)
        self.path = path
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw DurableFiles.IOError("cannot open the audit log", path) }
        // A crash mid-append leaves a torn last line. End it, so the next record starts a line
        // of its own instead of being glued to the torn one (and lost with it).
        let size = lseek(fd, 0, SEEK_END)
        var last: UInt8 = 0
        if size > 0, pread(fd, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") {
            var newline = UInt8(ascii: "\n")
            guard Glibc.write(fd, &newline, 1) == 1, fsync(fd) == 0 else { close(fd); throw DurableFiles.IOError("cannot repair the audit log", path) }
        }
    }

    deinit { close(fd) }

    public func append(_ record: AuditRecord, sync: Bool = false) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        lock.lock()
        defer { lock.unlock() }
        try line.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; throw DurableFiles.IOError("cannot write the audit log", path) }
                written += n
            }
        }
        if sync { guard fsync(fd) == 0 else { throw DurableFiles.IOError("cannot fsync the audit log", path) } }
    }

    /// Makes every line appended so far durable.
    public func sync() throws {
        lock.lock()
        defer { lock.unlock() }
        guard fsync(fd) == 0 else { throw DurableFiles.IOError("cannot fsync the audit log", path) }
    }

    /// Every record, and how many lines could not be read (a line torn by a crash).
    public static func read(path: String) throws -> (records: [AuditRecord], unreadable: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { return ([], 0) }
            throw DurableFiles.IOError("cannot read the audit log", path)
        }
        let decoder = JSONDecoder()
        var records: [AuditRecord] = []
        var unreadable = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let r = try? decoder.decode(AuditRecord.self, from: Data(line)) { records.append(r) } else { unreadable += 1 }
        }
        return (records, unreadable)
    }
}
