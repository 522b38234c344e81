/// A graph input or output: name, dtype and shape (dimension 0 = -1, the batch).
public struct ValueInfo: Sendable, Equatable {
    /// Value name.
    public var name: String
    /// Element type.
    public var dtype: DType
    /// Shape; `dims[0] == -1`.
    public var dims: [Int]

    /// Creates a value description.
    public init(name: String, dtype: DType = .f32, dims: [Int]) {
        self.name = name
        self.dtype = dtype
        self.dims = dims
    }

    /// Elements per sample: the product of all dims but the batch.
    public var sampleCount: Int { dims.dropFirst().reduce(1, *) }
}
