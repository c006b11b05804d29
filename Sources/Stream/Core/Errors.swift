/// User code threw while processing a record: carries where and on what, so the job's error
/// names the operator and the record's key rather than only the underlying error.
public struct UserFunctionError: Error, CustomStringConvertible {
    public var operatorName: String
    public var subtask: Int
    public var parallelism: Int
    /// The record's key for keyed operators, otherwise a short description of the record.
    public var context: String
    public var underlying: any Error

    public var description: String {
        "operator '\(operatorName)' (subtask \(subtask + 1)/\(parallelism)) failed on \(context): \(underlying)"
    }
}

/// The job stopped because a task failed; `description` is the first failure.
public struct JobFailedError: Error, CustomStringConvertible {
    public var jobName: String
    public var taskName: String
    public var cause: any Error
    public var description: String { "job '\(jobName)' failed in task \(taskName): \(cause)" }
}

/// The topology cannot be run as declared (caught before any task starts).
public struct TopologyError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid topology: \(message)" }
}

/// Describes a record for an error message without dumping megabytes of it.
func shortDescription<T>(_ value: T, limit: Int = 120) -> String {
    let text = String(describing: value)
    return text.count <= limit ? text : String(text.prefix(limit)) + "…"
}
