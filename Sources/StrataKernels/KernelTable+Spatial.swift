/// `Pad` of `planes` planes of `h × w` values by (top, left, bottom, right).
public typealias Pad2DKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ planes: Int, _ h: Int,
                                          _ w: Int, _ top: Int, _ left: Int, _ bottom: Int, _ right: Int, _ mode: PadMode,
                                          _ value: Float) -> Void
/// `Resize` of `planes` planes from `h × w` to `ho × wo` through per-axis tap tables.
public typealias Resize2DKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ planes: Int, _ h: Int,
                                             _ w: Int, _ ho: Int, _ wo: Int, _ rowIndex: UnsafePointer<Int>,
                                             _ rowWeight: UnsafePointer<Float>, _ colIndex: UnsafePointer<Int>,
                                             _ colWeight: UnsafePointer<Float>, _ nearest: Bool) -> Void
/// `ConvTranspose` of one sample.
public typealias ConvTranspose2DKernel = @Sendable (_ x: UnsafePointer<Float>, _ channels: Int, _ weights: UnsafePointer<Float>,
                                                    _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                                                    _ outChannels: Int, _ group: Int, _ window: Window2D) -> Void

/// The spatial kernels of format 1.5 (issue 15: Pad, Resize, ConvTranspose) with their twins.
extension KernelTable {
    public static let pad2d: [KernelEntry<Pad2DKernel>] = [
        KernelEntry(name: "pad2d_f32", referenceName: "pad2d_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { pad2d_f32(x: $0, y: $1, planes: $2, h: $3, w: $4, top: $5, left: $6, bottom: $7, right: $8,
                                        mode: $9, value: $10) },
                    reference: { pad2d_f32_reference(x: $0, y: $1, planes: $2, h: $3, w: $4, top: $5, left: $6, bottom: $7,
                                                     right: $8, mode: $9, value: $10) }),
    ]

    public static let resize2d: [KernelEntry<Resize2DKernel>] = [
        KernelEntry(name: "resize2d_f32", referenceName: "resize2d_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { resize2d_f32(x: $0, y: $1, planes: $2, h: $3, w: $4, ho: $5, wo: $6, rowIndex: $7,
                                           rowWeight: $8, colIndex: $9, colWeight: $10, nearest: $11) },
                    reference: { resize2d_f32_reference(x: $0, y: $1, planes: $2, h: $3, w: $4, ho: $5, wo: $6, rowIndex: $7,
                                                        rowWeight: $8, colIndex: $9, colWeight: $10, nearest: $11) }),
    ]

    public static let convTranspose2d: [KernelEntry<ConvTranspose2DKernel>] = [
        KernelEntry(name: "conv_transpose2d_f32", referenceName: "conv_transpose2d_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { conv_transpose2d_f32(x: $0, channels: $1, weights: $2, bias: $3, y: $4, outChannels: $5,
                                                   group: $6, window: $7) },
                    reference: { conv_transpose2d_f32_reference(x: $0, channels: $1, weights: $2, bias: $3, y: $4,
                                                                outChannels: $5, group: $6, window: $7) }),
    ]

    /// The names of the spatial kernels (part of `kernelNames`).
    static var spatialKernelNames: [String] { pad2d.map { $0.name } + resize2d.map { $0.name } + convTranspose2d.map { $0.name } }

    /// The names of their twins (part of `referenceNames`).
    static var spatialReferenceNames: [String] {
        pad2d.map { $0.referenceName } + resize2d.map { $0.referenceName } + convTranspose2d.map { $0.referenceName }
    }
}
