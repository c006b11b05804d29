/// How the template miner decides what is a template (see `TemplateMiner`).
public struct TemplateMinerConfig: Sendable, Codable, Equatable {
    /// The share of a template's constant tokens a message must match to join it (Drain's `st`).
    public var similarity: Double
    /// Drain's tree depth: messages are first grouped by token count, then by their first
    /// `depth - 2` tokens (only tokens that look like words; others group together).
    public var depth: Int
    /// Regexes (PCRE2, Python syntax) whose matches are parameters, applied before the tree search.
    public var masks: [String]
    /// At most this many templates are kept; the least recently matched one goes first.
    public var maxTemplates: Int
    /// A position where messages differ only by a word keeps it in the template while at most
    /// this many different words were seen there (`VM Started`, `VM Paused` stay two events);
    /// past that it is a parameter (`Invalid user <*>`).
    public var maxConstantVariants: Int

    public init(similarity: Double = 0.5, depth: Int = 3, masks: [String] = [], maxTemplates: Int = 100_000, maxConstantVariants: Int = 3) {
        self.similarity = similarity
        self.depth = depth
        self.masks = masks
        self.maxTemplates = maxTemplates
        self.maxConstantVariants = maxConstantVariants
    }

    /// Why this configuration cannot be used, or nil.
    public var problem: String? {
        if !(0...1).contains(similarity) { return "similarity must be between 0 and 1, not \(similarity)" }
        if depth < 3 { return "depth must be at least 3 (token count, then leading tokens), not \(depth)" }
        if maxTemplates < 1 { return "maxTemplates must be at least 1, not \(maxTemplates)" }
        if maxConstantVariants < 0 { return "maxConstantVariants must not be negative" }
        return nil
    }
}
