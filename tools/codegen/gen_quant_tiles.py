"""Generates Sources/StrataKernels/Generated/QuantTiles.swift: the register-blocked microkernels of
`gemm_q_packed16_simd8`, the GEMM/GEMV over quantized panel16 weights (f16, bf16, int8, int4).
Run: python3 tools/codegen/gen_quant_tiles.py

Each tile computes R rows × P panels of 16 output features over the whole of K, decoding the
weights of one k step into two SIMD8<Float> per panel inside the loop (never to memory):
- f16, bf16: widened to f32;
- int8: converted to f32; the per-row scale multiplies the sum in the epilogue;
- int4: (nibble - 8) made exactly in f32 (`nibbleMinus8`) and multiplied by the block's f16 scale (dequantized
  exactly as the reference dequantizer does), then accumulated.
Every output element is one accumulator updated by one FMA per k, in k order, whatever the tile,
so all tile shapes give bitwise-identical results (the engine's determinism contract)."""
from pathlib import Path

TILES = [(6, 1), (4, 1), (2, 2), (2, 1), (1, 4), (1, 1)]
DTYPES = ["f16", "bf16", "int8", "int4"]
OUT = Path(__file__).resolve().parents[2] / "Sources" / "StrataKernels" / "Generated" / "QuantTiles.swift"


def decode(dt, q):
    """Swift lines defining v{2q}, v{2q+1}: the 16 weights of panel q at step kk."""
    v0, v1, w = f"v{2 * q}", f"v{2 * q + 1}", f"w{q}"
    if dt == "f16":
        return [f"let {v0} = widenF16({w} + kk &* 32), {v1} = widenF16({w} + kk &* 32 + 16)"]
    if dt == "bf16":
        return [f"let {v0} = widenBF16(({w} + kk &* 32).loadUnaligned(as: SIMD8<UInt16>.self)), "
                f"{v1} = widenBF16(({w} + kk &* 32 + 16).loadUnaligned(as: SIMD8<UInt16>.self))"]
    if dt == "int8":
        return [f"let {v0} = widenInt8({w} + kk &* 16), {v1} = widenInt8({w} + kk &* 16 + 8)"]
    assert dt == "int4"
    return [f"let n{q} = widenUInt8({w} + kk &* 8)",
            f"let {v0} = nibbleMinus8(n{q} & 15) * s{q}_0, {v1} = nibbleMinus8(n{q} &>> 4) * s{q}_1"]


def tile(dt, r, p):
    acc = [[f"c{i}_{j}" for j in range(2 * p)] for i in range(r)]
    L = [f"/// {dt}: {r} row(s) × {p} panel(s) of 16 over all of K; {r * 2 * p} SIMD8 accumulators.",
         "@inline(__always)",
         f"func qTile{r}x{16 * p}_{dt}(a: UnsafePointer<Float>, lda: Int, w: UnsafeRawPointer, panelBytes: Int, k: Int,",
         "                 scales: UnsafeRawPointer?, scaleBytes: Int, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue) {"]
    for i in range(r):
        L.append("    var " + ", ".join(f"{n} = SIMD8<Float>()" for n in acc[i]))
    for i in range(r):
        L.append(f"    let a{i} = a + {i} * lda")
    for q in range(p):
        L.append(f"    let w{q} = {'w' if q == 0 else f'w + {q} * panelBytes'}")
    ind = "        "
    body = []
    for q in range(p):
        body += decode(dt, q)
    for i in range(r):
        body.append(f"let x{i} = SIMD8<Float>(repeating: a{i}[kk])")
        for j in range(2 * p):
            body.append(f"{acc[i][j]} = {acc[i][j]}.addingProduct(x{i}, v{j})")
    if dt == "int4":
        L.append("    let sc = scales!")
        L.append("    var kb = 0, block = 0")
        L.append("    while kb < k {")
        for q in range(p):
            L.append(f"        let s{q}_0 = widenF16(sc + {q} * scaleBytes + block &* 32), s{q}_1 = widenF16(sc + {q} * scaleBytes + block &* 32 + 16)")
        L.append("        for kk in kb..<min(k, kb + 32) {")
        L += ["            " + b for b in body]
        L.append("        }")
        L.append("        kb += 32; block += 1")
        L.append("    }")
    else:
        L.append("    for kk in 0..<k {")
        L += [ind + b for b in body]
        L.append("    }")
    if dt == "int8":
        L.append("    let sc = scales!")
        for q in range(p):
            L.append(f"    let t{2 * q} = (sc + {q} * scaleBytes).loadUnaligned(as: SIMD8<Float>.self), "
                     f"t{2 * q + 1} = (sc + {q} * scaleBytes + 32).loadUnaligned(as: SIMD8<Float>.self)")
        for i in range(r):
            for j in range(2 * p):
                L.append(f"    {acc[i][j]} = {acc[i][j]} * t{j}")
    for i in range(r):
        for j in range(2 * p):
            L.append(f"    store8(epilogue.apply({acc[i][j]}, column: {8 * j}), c + {i} * ldc + {8 * j})")
    L.append("}")
    return "\n".join(L)


def dispatch(dt):
    """A function that runs one tile shape of `dt` by (rows, panels)."""
    L = [f"/// Runs the {dt} tile of `rows` × `panels` (a shape of `quantTileShapes`).",
         "@inline(__always)",
         f"func qTile_{dt}(rows: Int, panels: Int, a: UnsafePointer<Float>, lda: Int, w: UnsafeRawPointer, panelBytes: Int, k: Int,",
         "                 scales: UnsafeRawPointer?, scaleBytes: Int, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue) {",
         "    switch (rows, panels) {"]
    for r, p in TILES:
        L.append(f"    case ({r}, {p}): qTile{r}x{16 * p}_{dt}(a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: scales, "
                 "scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: epilogue)")
    L.append("    default: preconditionFailure(\"no quantized tile of this shape\")")
    L += ["    }", "}"]
    return "\n".join(L)


def render():
    """The text of OUT as this generator makes it."""
    parts = []
    for dt in DTYPES:
        parts += [tile(dt, r, p) for r, p in TILES] + [dispatch(dt)]
    shapes = ", ".join(f"({r}, {p})" for r, p in TILES)
    header = ("// GENERATED by tools/codegen/gen_quant_tiles.py — do not edit by hand.\n"
              "// Register-blocked microkernels for gemm_q_packed16_simd8 (see GemmQuantPacked16.swift).\n\n"
              f"/// The (rows, panels) tile shapes generated for every quantized dtype.\nlet quantTileShapes = [{shapes}]\n\n")
    return header + "\n\n".join(parts) + "\n"


def main():
    OUT.write_text(render())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
