import StrataCore
import StrataEngine

/// The error every Strata call throws: a `status` (``Status``, e.g. `.checksumMismatch`) and a
/// `message` sentence naming the problem.
public typealias StrataError = StrataCore.StrataError
/// The status codes of ``StrataError`` (the C ABI's `STRATA_STATUS_*`).
public typealias Status = StrataCore.Status
/// The outcome of ``Model/selfTest()``: samples and values compared, the largest errors, `passed`.
public typealias SelfTestResult = StrataEngine.SelfTestResult

/// A graph input or output: its name and shape, whose first (batch) dimension is `nil`.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
    /// The value's name in the graph.
    public let name: String
    /// The shape; `shape[0]`, the batch, is `nil`.
    public let shape: [Int?]
    /// The shape of one sample (`shape` without the batch).
    public var sampleShape: [Int] { shape.dropFirst().map { $0 ?? 0 } }
    /// Values per sample (the product of `sampleShape`).
    public var sampleCount: Int { sampleShape.reduce(1, *) }
    /// A value named `name` of shape `shape` (`nil` for the batch dimension).
    public init(name: String, shape: [Int?]) {
        self.name = name
        self.shape = shape
    }
    /// `"x [N, 1, 28, 28]"`.
    public var description: String { "\(name) [" + shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]" }
}

/// A loaded, validated and planned `.strata` model. Immutable and `Sendable`: share one model
/// between threads and give each thread its own ``Session``.
///
/// ```swift
/// let model = try Model(path: "mnist.strata")
/// let session = try model.makeSession()
/// let scores = try session.run(pixels)      // [Float], batch inferred from the count
/// ```
public final class Model: Sendable {
    let engine: StrataEngine.Model
    /// The graph inputs, in order.
    public let inputs: [TensorInfo]
    /// The graph outputs, in order.
    public let outputs: [TensorInfo]

    /// Maps, validates and plans the file at `path` (`strata_model_load_file`).
    /// - Throws: `StrataError` with `.ioError` (missing file, a directory), `.badMagic`,
    ///   `.checksumMismatch`, `.malformed`, `.unsupported`, … and a sentence naming the problem.
    public convenience init(path: String) throws(StrataError) {
        self.init(engine: try StrataEngine.Model(path: path))
    }

    /// Copies, validates and plans an in-memory `.strata` image (`strata_model_load_memory`);
    /// `bytes` may go afterwards.
    public convenience init(bytes: [UInt8]) throws(StrataError) {
        let loaded = bytes.withUnsafeBytes { raw -> Result<StrataEngine.Model, StrataError> in
            do throws(StrataError) { return .success(try StrataEngine.Model(copying: raw)) } catch { return .failure(error) }
        }
        self.init(engine: try loaded.get())
    }

    private init(engine: StrataEngine.Model) {
        self.engine = engine
        func info(_ name: String, _ dims: [Int]) -> TensorInfo {
            TensorInfo(name: name, shape: dims.enumerated().map { $0.offset == 0 ? nil : $0.element })
        }
        inputs = engine.inputs.map { info($0.name, $0.dims) }
        outputs = engine.outputs.map { info($0.name, $0.dims) }
    }

    /// The metadata value stored under `key` (e.g. `"producer"`, `"model_name"`), or nil.
    public func metadata(_ key: String) -> String? { engine.metadataValue(key) }

    /// The class labels stored by the converter (one per output class), or nil.
    public var classLabels: [String]? {
        metadata("class_labels").map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Number of stored weight values.
    public var parameterCount: Int { engine.parameterCount }

    /// A new session for running this model on one thread at a time.
    /// - Parameters:
    ///   - threads: worker threads for each run, 1…256 (1 = the calling thread only); results are
    ///     bitwise identical for every count.
    ///   - initialBatch: samples the session's buffers are sized for at once (they grow as needed).
    /// - Throws: `.invalidArgument` for counts out of range, `.outOfMemory`.
    public func makeSession(threads: Int = 1, initialBatch: Int = 1) throws(StrataError) -> Session {
        try Session(model: self, threads: threads, initialBatch: initialBatch)
    }

    /// Runs the reference samples embedded in the file (`strata_model_self_test`).
    /// - Returns: whether every output is within the file's tolerance, and the largest errors.
    /// - Throws: `.unsupported` when the file has no self-test data.
    public func selfTest() throws(StrataError) -> SelfTestResult {
        try engine.selfTest()
    }
}
