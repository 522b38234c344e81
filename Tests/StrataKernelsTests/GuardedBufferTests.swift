#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

/// The harness itself: if the guard page did not fault, every "no over-read" claim above
/// would be vacuous.
@Suite("Guarded buffers")
struct GuardedBufferTests {
    @Test("reading one element past a trailing-guarded buffer faults")
    func trailingGuardFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let b = GuardedBuffer(count: 5, edge: .trailing)
            print((b.pointer + 5).pointee)  // used, so the load is not elided
        }
    }

    @Test("reading one element before a leading-guarded buffer faults")
    func leadingGuardFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let b = GuardedBuffer(count: 5, edge: .leading)
            print((b.pointer - 1).pointee)
        }
    }

    @Test("writing to a read-only input faults")
    func readOnlyFaults() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let b = GuardedBuffer([1, 2, 3])
            b.makeReadOnly()
            b.pointer[1] = 0
        }
    }

    @Test("a write on the unguarded side is caught by the canaries", arguments: GuardedBuffer.Edge.allCases)
    func canaries(edge: GuardedBuffer.Edge) {
        let b = GuardedBuffer([1, 2, 3], edge: edge)
        #expect(b.canariesIntact)
        if edge == .trailing { (b.pointer - 1).pointee = 0 } else { (b.pointer + 3).pointee = 0 }
        #expect(!b.canariesIntact)
    }
}
