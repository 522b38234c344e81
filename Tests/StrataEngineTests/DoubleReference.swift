#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Straightforward Double implementations of the ops, written from docs/FORMAT.md, that the
/// engine's float results are checked against. Values are flat, row-major, batch first.
enum Ref {
    /// `y[r, j] = Σ_p x[r, p] · w[j, p] + b[j]` over `x.count / k` rows.
    static func linear(_ x: [Double], k: Int, _ w: [Float], _ b: [Float]?) -> [Double] {
        let n = w.count / k, rows = x.count / k
        var y = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for j in 0..<n {
                var acc = b.map { Double($0[j]) } ?? 0
                for p in 0..<k { acc += x[r * k + p] * Double(w[j * k + p]) }
                y[r * n + j] = acc
            }
        }
        return y
    }

    static func relu(_ x: [Double]) -> [Double] { x.map { max($0, 0) } }
    static func sigmoid(_ x: [Double]) -> [Double] { x.map { 1 / (1 + exp(-$0)) } }
    static func tanh(_ x: [Double]) -> [Double] { x.map { Glibc.tanh($0) } }

    /// Softmax (or its log) over consecutive rows of `cols` values.
    static func softmax(_ x: [Double], cols: Int, log takeLog: Bool = false) -> [Double] {
        var y = x
        for start in stride(from: 0, to: x.count, by: cols) {
            let row = x[start..<(start + cols)]
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            for i in row.indices { y[i] = takeLog ? x[i] - lse : exp(x[i] - lse) }
        }
        return y
    }

    /// `a + b` with `b` repeating every `b.count` values.
    static func add(_ a: [Double], _ b: [Double]) -> [Double] {
        a.indices.map { a[$0] + b[$0 % b.count] }
    }
}

extension Array where Element == Float {
    var asDouble: [Double] { map(Double.init) }
}
