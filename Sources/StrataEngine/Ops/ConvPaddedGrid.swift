import StrataKernels

/// The padded-grid route of a stride-1 Conv (`ConvRoute.paddedGrid`): its geometry and the
/// per-chunk work of `ConvJob` (pad the chunk's input rows, the indirect GEMM over the grid,
/// copy the real columns out).

/// The padded-grid geometry of a stride-1 Conv for chunks of `chunkRows` output rows.
struct PaddedGrid {
    /// Row pitch of the padded plane and of the grid: `wo + (kw − 1)·dw` (= `w + padLeft + padRight`).
    let pitch: Int
    /// Input rows a chunk reads beyond its own: `(kh − 1)·dh`.
    let halo: Int
    let chunkRows: Int, channels: Int, outChannels: Int
    let columns: IndirectColumns

    init(_ p: ConvPlan, chunkRows: Int) {
        let w = p.window
        pitch = w.wo + (w.kw - 1) * w.dw
        halo = (w.kh - 1) * w.dh
        self.chunkRows = chunkRows
        channels = p.channels / p.group
        outChannels = p.outChannels / p.group
        columns = IndirectColumns(channels: channels, kh: w.kh, kw: w.kw, channelPitch: (chunkRows + halo) * pitch,
                                  rowStep: w.dh * pitch, columnStep: w.dw)
    }

    /// Floats of one group's padded input rows for a chunk, and 16 of zeroed slack: the GEMM runs
    /// whole 16-column panels (`panelColumns`), whose last columns read up to 15 floats past the
    /// last channel's rows.
    var paddedFloats: Int { (channels * (chunkRows + halo) * pitch + 15) / 16 * 16 + 16 }
    /// Grid columns computed for `rows` output rows: through column `wo` of the last row,
    /// rounded up to whole panels (no edge panel; the extra columns are junk like `ox ≥ wo`).
    func panelColumns(rows: Int, wo: Int) -> Int { ((rows - 1) * pitch + wo + 15) / 16 * 16 }
    /// Row stride of the grid output for `rows` output rows (≥ `panelColumns`).
    func gridStride(rows: Int) -> Int { (rows * pitch + 15) / 16 * 16 }
    /// Floats of one group's grid output for a chunk.
    var outputFloats: Int { outChannels * gridStride(rows: chunkRows) }
}

extension ConvJob {
    /// Items `items` of a padded-grid Conv: per (sample, chunk of output rows) and group, the
    /// chunk's input rows zero-padded into scratch, the indirect GEMM over the grid into scratch,
    /// then the `wo` real columns of each grid row out to `y` (with the residual: `y = grid + skip`,
    /// then the activation — the rounding of the unfused plan).
    func runGrid(_ items: Range<Int>, grid: PaddedGrid, slot: Int) {
        let p = plan, w = p.window, k = p.k, positions = p.positions
        let cg = grid.channels, mg = grid.outChannels, pitch = grid.pitch
        let workspace = scratch + slot * p.scratchFloats
        let padded = workspace + (grid.columns.workspaceFloats + 15) / 16 * 16, gridOut = padded + grid.paddedFloats
        let gemmActivation = skip == nil ? p.activation : .identity
        // Zero once: the border columns and the slack are never written below, only interior
        // columns of input rows and whole zero rows.
        for i in 0..<grid.paddedFloats { padded[i] = 0 }
        for item in items {
            let n = item / chunks, oy0 = (item % chunks) * chunk, rows = min(chunk, w.ho - oy0)
            let inRows = rows + grid.halo, channelPitch = grid.columns.channelPitch
            // Input rows [iy0, iy1) of the padded rows oy0 − padTop ..< oy0 − padTop + inRows.
            let first = oy0 - w.padTop, iy0 = max(0, first), iy1 = min(w.h, first + inRows)
            for g in 0..<p.group {
                let input = x + (n * p.channels + g * cg) * w.h * w.w
                for c in 0..<cg {
                    // Whole zero rows above and below the input, the input rows in one strided
                    // copy between the (still zero) border columns.
                    let dst = padded + c * channelPitch
                    let top = max(0, min(inRows, iy0 - first)), valid = max(0, iy1 - iy0)
                    for i in 0..<(top * pitch) { dst[i] = 0 }
                    for i in ((top + valid) * pitch)..<(inRows * pitch) { dst[i] = 0 }
                    guard valid > 0 else { continue }
                    copy_rows_f32(x: input + c * w.h * w.w + iy0 * w.w, ldx: w.w, y: dst + top * pitch + w.padLeft, ldy: pitch,
                                  rows: valid, cols: w.w)
                }
                let ldg = grid.gridStride(rows: rows)
                gemm_f32_indirect16_simd8(w: p.weights + g * mg * k, lda: k, b: padded, columns: grid.columns,
                                          rowBias: p.bias.map { $0 + g * mg }, y: gridOut, ldy: ldg, m: mg,
                                          n: grid.panelColumns(rows: rows, wo: w.wo), activation: gemmActivation,
                                          workspace: workspace)
                let outOffset = (n * p.outChannels + g * mg) * positions + oy0 * w.wo
                if let skip {
                    for oc in 0..<mg {
                        for r in 0..<rows {
                            let at = outOffset + oc * positions + r * w.wo, src = gridOut + oc * ldg + r * pitch
                            binary_f32_simd8(.add, a: src, aStep: 1, b: skip + at, bStep: 1, y: y + at, count: w.wo)
                            if p.activation != .identity { activation_f32_simd8(x: y + at, y: y + at, count: w.wo, activation: p.activation) }
                        }
                    }
                } else {
                    for oc in 0..<mg {
                        copy_rows_f32(x: gridOut + oc * ldg, ldx: pitch, y: y + outOffset + oc * positions, ldy: w.wo,
                                      rows: rows, cols: w.wo)
                    }
                }
            }
        }
    }
}
