#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Double references for the ops of format 1.2, written from docs/FORMAT.md "Ops (1.2)".
/// Shapes are full (batch included), values flat row-major.
extension Ref {
    static func strides(_ d: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: d.count)
        for i in d.indices.dropLast().reversed() { s[i] = s[i + 1] * d[i + 1] }
        return s
    }

    /// The numpy broadcast of two shapes.
    static func broadcastShape(_ ad: [Int], _ bd: [Int]) -> [Int] {
        let rank = max(ad.count, bd.count)
        let pa = [Int](repeating: 1, count: rank - ad.count) + ad, pb = [Int](repeating: 1, count: rank - bd.count) + bd
        return zip(pa, pb).map { max($0, $1) }
    }

    /// numpy broadcasting `f(a, b)`; returns the result and its shape.
    static func broadcast(_ a: [Double], _ ad: [Int], _ b: [Double], _ bd: [Int], _ f: (Double, Double) -> Double) -> ([Double], [Int]) {
        let rank = max(ad.count, bd.count)
        let pa = [Int](repeating: 1, count: rank - ad.count) + ad, pb = [Int](repeating: 1, count: rank - bd.count) + bd
        let out = zip(pa, pb).map { max($0, $1) }
        let sa = strides(pa), sb = strides(pb), so = strides(out)
        let count = out.reduce(1, *)
        var y = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var ia = 0, ib = 0
            for d in 0..<rank {
                let c = (i / so[d]) % out[d]
                if pa[d] != 1 { ia += c * sa[d] }
                if pb[d] != 1 { ib += c * sb[d] }
            }
            y[i] = f(a[ia], b[ib])
        }
        return (y, out)
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
    static func geluTanh(_ x: Double) -> Double { 0.5 * x * (1 + Glibc.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
    static func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Softmax (or log) along `axis` of a full shape.
    static func softmax(_ x: [Double], dims: [Int], axis: Int, log takeLog: Bool) -> [Double] {
        let n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *), outer = dims[..<axis].reduce(1, *)
        var y = x
        for o in 0..<outer {
            for j in 0..<inner {
                let idx = (0..<n).map { o * n * inner + $0 * inner + j }
                let m = idx.map { x[$0] }.max()!
                let lse = m + log(idx.reduce(0) { $0 + exp(x[$1] - m) })
                for i in idx { y[i] = takeLog ? x[i] - lse : exp(x[i] - lse) }
            }
        }
        return y
    }

    /// LayerNorm over the last `cols` values of each row.
    static func layerNorm(_ x: [Double], cols: Int, scale: [Float], bias: [Float]?, epsilon: Double) -> [Double] {
        var y = x
        for start in stride(from: 0, to: x.count, by: cols) {
            let row = x[start..<(start + cols)]
            let mean = row.reduce(0, +) / Double(cols)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
            for c in 0..<cols {
                y[start + c] = (x[start + c] - mean) / (variance + epsilon).squareRoot() * Double(scale[c]) + Double(bias?[c] ?? 0)
            }
        }
        return y
    }

    /// 2-D convolution, NCHW, ONNX semantics. pads: [top, left, bottom, right].
    static func conv(_ x: [Double], n: Int, c: Int, h: Int, w: Int, weight: [Float], m: Int, kh: Int, kw: Int,
                     bias: [Float]?, strides: [Int], pads: [Int], dilations: [Int], group: Int) -> (y: [Double], ho: Int, wo: Int) {
        let ho = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
        let wo = (w + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
        let cg = c / group, mg = m / group
        var y = [Double](repeating: 0, count: n * m * ho * wo)
        for b in 0..<n {
            for oc in 0..<m {
                let g = oc / mg
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var acc = Double(bias?[oc] ?? 0)
                        for ci in 0..<cg {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let ih = oh * strides[0] - pads[0] + i * dilations[0]
                                    let iw = ow * strides[1] - pads[1] + j * dilations[1]
                                    guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                                    acc += x[((b * c + g * cg + ci) * h + ih) * w + iw] * Double(weight[((oc * cg + ci) * kh + i) * kw + j])
                                }
                            }
                        }
                        y[((b * m + oc) * ho + oh) * wo + ow] = acc
                    }
                }
            }
        }
        return (y, ho, wo)
    }

    /// Max or average pooling, NCHW, ONNX/PyTorch semantics (ceil mode never starts a window
    /// past the padded input; the average divisor counts padding only with countIncludePad).
    static func pool(_ x: [Double], planes: Int, h: Int, w: Int, kernel: [Int], strides: [Int], pads: [Int],
                     dilations: [Int], ceil: Bool, isMax: Bool, countIncludePad: Bool) -> (y: [Double], ho: Int, wo: Int) {
        func extent(_ size: Int, _ d: Int) -> Int {
            let span = size + pads[d] + pads[d + 2] - dilations[d] * (kernel[d] - 1) - 1
            var o = (ceil ? Int((Double(span) / Double(strides[d])).rounded(.up)) : span / strides[d]) + 1
            if ceil && (o - 1) * strides[d] >= size + pads[d] { o -= 1 }
            return o
        }
        let ho = extent(h, 0), wo = extent(w, 1)
        var y = [Double](repeating: 0, count: planes * ho * wo)
        for p in 0..<planes {
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var acc = isMax ? -Double.infinity : 0
                    var inside = 0, padded = 0
                    for i in 0..<kernel[0] {
                        for j in 0..<kernel[1] {
                            let ih = oh * strides[0] - pads[0] + i * dilations[0]
                            let iw = ow * strides[1] - pads[1] + j * dilations[1]
                            guard ih < h + pads[2], iw < w + pads[3] else { continue }
                            padded += 1
                            guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                            let v = x[(p * h + ih) * w + iw]
                            acc = isMax ? max(acc, v) : acc + v
                            inside += 1
                        }
                    }
                    y[(p * ho + oh) * wo + ow] = isMax ? acc : acc / Double(countIncludePad ? padded : inside)
                }
            }
        }
        return (y, ho, wo)
    }

    /// `v · Mᵀ` rows for `M` = rows `r0 ..< r0 + count` of a row-major `[_, k]` matrix.
    static func matvec(_ v: [Double], _ m: [Float], k: Int, rows r0: Int, count: Int) -> [Double] {
        (0..<count).map { j in (0..<k).reduce(0.0) { $0 + v[$1] * Double(m[(r0 + j) * k + $1]) } }
    }

    /// RNN/GRU/LSTM, batch-first, ONNX gate orders (GRU z, r, h; LSTM i, o, f, c).
    /// Returns Y `[N, T, H]`, Y_h `[N, H]`, Y_c `[N, H]` (LSTM; else empty).
    static func recurrent(_ op: String, x: [Double], n: Int, t: Int, i inputSize: Int, hidden h: Int,
                          w: [Float], r: [Float], wb: [Float]?, rb: [Float]?, h0: [Double]?, c0: [Double]?,
                          linearBeforeReset: Bool = false, relu: Bool = false) -> ([Double], [Double], [Double]) {
        var y = [Double](repeating: 0, count: n * t * h), yh = [Double](), yc = [Double]()
        for b in 0..<n {
            var hs = h0.map { Array($0[(b * h)..<((b + 1) * h)]) } ?? [Double](repeating: 0, count: h)
            var cs = c0.map { Array($0[(b * h)..<((b + 1) * h)]) } ?? [Double](repeating: 0, count: h)
            for s in 0..<t {
                let xt = Array(x[((b * t + s) * inputSize)..<((b * t + s + 1) * inputSize)])
                func xw(_ g: Int) -> [Double] {
                    matvec(xt, w, k: inputSize, rows: g * h, count: h).enumerated().map { $1 + Double(wb?[g * h + $0] ?? 0) }
                }
                func hr(_ g: Int, _ state: [Double]) -> [Double] {
                    matvec(state, r, k: h, rows: g * h, count: h).enumerated().map { $1 + Double(rb?[g * h + $0] ?? 0) }
                }
                var next = [Double](repeating: 0, count: h)
                switch op {
                case "RNN":
                    let a = xw(0), c = hr(0, hs)
                    for j in 0..<h { next[j] = relu ? max(0, a[j] + c[j]) : Glibc.tanh(a[j] + c[j]) }
                case "GRU":
                    let xz = xw(0), xr = xw(1), xh = xw(2), hz = hr(1 - 1, hs), hrr = hr(1, hs)
                    let z = (0..<h).map { sigmoid(xz[$0] + hz[$0]) }, rg = (0..<h).map { sigmoid(xr[$0] + hrr[$0]) }
                    let cand: [Double]
                    if linearBeforeReset {
                        let hh = hr(2, hs)
                        cand = (0..<h).map { Glibc.tanh(xh[$0] + rg[$0] * hh[$0]) }
                    } else {
                        let hh = hr(2, (0..<h).map { rg[$0] * hs[$0] })
                        cand = (0..<h).map { Glibc.tanh(xh[$0] + hh[$0]) }
                    }
                    for j in 0..<h { next[j] = (1 - z[j]) * cand[j] + z[j] * hs[j] }
                default:
                    let g = (0..<4).map { k in zip(xw(k), hr(k, hs)).map { $0 + $1 } }
                    for j in 0..<h {
                        let ig = sigmoid(g[0][j]), og = sigmoid(g[1][j]), fg = sigmoid(g[2][j]), cg = Glibc.tanh(g[3][j])
                        cs[j] = fg * cs[j] + ig * cg
                        next[j] = og * Glibc.tanh(cs[j])
                    }
                }
                hs = next
                for j in 0..<h { y[(b * t + s) * h + j] = hs[j] }
            }
            yh += hs
            yc += cs
        }
        return (y, yh, op == "LSTM" ? yc : [])
    }
}
