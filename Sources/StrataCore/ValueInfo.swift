/// A graph input or output: name, dtype and shape (dimension 0 = -1, the batch).
public struct ValueInfo: Sendable, Equatable {
    /// Value name.
    public var name: String
    /// Element type.
    public var dtype: DType
    /// Shape; exactly one dim is -1, the batch: dim 0 up to format 1.4, any dim from 1.5
    /// (e.g. a recurrent state `[layers, -1, hidden]`).
    public var dims: [Int]

    /// Creates a value description.
    public init(name: String, dtype: DType = .f32, dims: [Int]) {
        self.name = name
        self.dtype = dtype
        self.dims = dims
    }

    /// Elements per sample: the product of all dims but the batch.
    public var sampleCount: Int {  // no array made: the C API checks counts with it on every run
        var count = 1
        for d in dims where d != -1 { count *= d }
        return count
    }
    /// The batch dimension's index (the dim that is -1).
    public var batchAxis: Int { dims.firstIndex(of: -1) ?? 0 }
    /// The shape of one sample: every dim but the batch.
    public var sampleDims: [Int] {
        var d = dims
        d.remove(at: batchAxis)
        return d
    }
    /// Elements before the batch dimension: a caller's buffer holds `outerCount` blocks of
    /// `batch` rows of `sampleCount / outerCount` values (1 when the batch is dim 0).
    public var outerCount: Int { dims[..<batchAxis].reduce(1, *) }
}
