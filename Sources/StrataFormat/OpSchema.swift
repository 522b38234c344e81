/// The structural schema of each op of docs/FORMAT.md: input/output counts and attribute types.
///
/// The reader checks nodes against it; the engine gives the ops their meaning.
public struct OpSchema: Sendable {
    /// Op name as stored in the file.
    public var name: String
    /// Allowed number of inputs (absent optional inputs are written as "").
    public var inputCount: ClosedRange<Int>
    /// Indices of inputs that may be "" (absent).
    public var optionalInputs: Set<Int>
    /// Allowed attributes and their type ids (1 int, 2 float, 3 ints, 4 string).
    public var attributes: [String: UInt32]

    /// The schema of every op this library knows, by name.
    public static let all: [String: OpSchema] = {
        func s(_ n: String, _ c: ClosedRange<Int>, optional: Set<Int> = [], _ a: [String: UInt32] = [:]) -> (String, OpSchema) {
            (n, OpSchema(name: n, inputCount: c, optionalInputs: optional, attributes: a))
        }
        return Dictionary(uniqueKeysWithValues: [
            s("Linear", 2...3, optional: [2]),
            s("Relu", 1...1), s("Sigmoid", 1...1), s("Tanh", 1...1), s("Identity", 1...1),
            s("Softmax", 1...1, ["axis": 1]), s("LogSoftmax", 1...1, ["axis": 1]),
            s("Flatten", 1...1, ["axis": 1]), s("Reshape", 1...1, ["shape": 3]),
            s("Add", 2...2),
        ])
    }()
}
