#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `count` floats placed against a `PROT_NONE` guard page, so that a kernel reading or writing
/// one element past the end (`.trailing`) or before the start (`.leading`) faults at once.
/// The rest of the mapped pages holds canary values that `canariesIntact` checks, so a stray
/// write on the unguarded side is caught too. Inputs can be made read-only.
final class GuardedBuffer {
    /// Which end of the data touches the guard page.
    enum Edge: CaseIterable { case trailing, leading }

    let count: Int
    let pointer: UnsafeMutablePointer<Float>
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int
    private let dataPages: UnsafeMutableRawPointer
    private let dataPagesSize: Int

    /// A bit pattern no test writes: a NaN with a recognisable payload.
    static let canary = Float(bitPattern: 0x7FC0_CA4A)

    init(count: Int, edge: Edge = .trailing) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let bytes = count * MemoryLayout<Float>.stride
        dataPagesSize = max(1, (bytes + page - 1) / page) * page
        mappingSize = dataPagesSize + page
        guard let m = mmap(nil, mappingSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              m != MAP_FAILED else { fatalError("mmap of \(mappingSize) bytes failed") }
        mapping = m
        let guardPage: UnsafeMutableRawPointer
        let start: UnsafeMutableRawPointer
        switch edge {
        case .trailing:
            dataPages = m
            guardPage = m + dataPagesSize
            start = guardPage - bytes
        case .leading:
            guardPage = m
            dataPages = m + page
            start = dataPages
        }
        precondition(mprotect(guardPage, page, PROT_NONE) == 0)
        self.count = count
        dataPages.initializeMemory(as: Float.self, repeating: GuardedBuffer.canary,
                                   count: dataPagesSize / MemoryLayout<Float>.stride)
        pointer = start.assumingMemoryBound(to: Float.self)
    }

    /// A guarded copy of `values`.
    convenience init(_ values: [Float], edge: Edge = .trailing) {
        self.init(count: values.count, edge: edge)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    deinit { munmap(mapping, mappingSize) }

    /// The data, read-only pointer.
    var readPointer: UnsafePointer<Float> { UnsafePointer(pointer) }

    /// The data as an array.
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every element to `value`.
    func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// Makes the data pages read-only: a kernel writing to an input faults.
    func makeReadOnly() {
        precondition(mprotect(dataPages, dataPagesSize, PROT_READ) == 0)
    }

    /// True when every float of the data pages outside the data still holds the canary.
    var canariesIntact: Bool {
        let all = dataPages.assumingMemoryBound(to: Float.self)
        let total = dataPagesSize / MemoryLayout<Float>.stride
        let first = pointer - all
        for i in 0..<total where (i < first || i >= first + count) && !isBitwiseEqual(all[i], GuardedBuffer.canary) {
            return false
        }
        return true
    }
}
