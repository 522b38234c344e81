import StrataCore
import StrataFormat

/// A loaded, validated and planned model: immutable, shareable by any number of threads.
public final class Model: Sendable {
    /// The validated file (graph, tensors, metadata); keeps the bytes alive.
    let file: ModelFile
    let plan: Plan

    /// Plans an already validated file. Throws `unsupported` or `shapeMismatch` naming the node.
    package convenience init(file: ModelFile) throws(StrataError) {
        self.init(file: file, plan: try Plan(file: file))
    }

    /// (Not throwing: see `OwnedFloats.init(pointer:count:)`.)
    private init(file: ModelFile, plan: Plan) {
        self.file = file
        self.plan = plan
    }

    /// Maps, validates and plans the file at `path`.
    public convenience init(path: String, options: LoadOptions = .init()) throws(StrataError) {
        try self.init(file: ModelReader.read(path: path, options: options.reader))
    }

    /// Maps, validates and plans the file at the NUL-terminated `cPath` (any bytes, not only UTF-8).
    public convenience init(cPath: UnsafePointer<CChar>, options: LoadOptions = .init()) throws(StrataError) {
        try self.init(file: ModelReader.read(cPath: cPath, options: options.reader))
    }

    /// Copies, validates and plans an in-memory `.strata` image.
    public convenience init(copying bytes: UnsafeRawBufferPointer, options: LoadOptions = .init()) throws(StrataError) {
        try self.init(file: ModelReader.read(copying: bytes, options: options.reader))
    }

    /// Graph inputs.
    public var inputs: [ValueInfo] { file.inputs }
    /// Graph outputs.
    public var outputs: [ValueInfo] { file.outputs }
    /// One line per executed step (after fusion), in order.
    public var steps: [StepDescription] { plan.descriptions }
    /// Number of stored weight values.
    public var parameterCount: Int { file.tensors.reduce(0) { $0 + $1.elementCount } }
    /// Floating-point operations per sample (2 per multiply-add of the Linear, Conv and recurrent
    /// matrix products).
    public var flopsPerSample: Double {
        plan.steps.reduce(0) { $0 + $1.kernel.flopsPerSample }
    }

    /// Scratch floats per sample a session needs.
    public var arenaFloatsPerSample: Int { plan.arenaPerSample }
}
