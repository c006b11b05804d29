/// Names a side output of type `T` (e.g. late records of a window).
public struct OutputTag<T>: Sendable, Hashable {
    public let name: String
    public init(_ name: String) { self.name = name }
}
