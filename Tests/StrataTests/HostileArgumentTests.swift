#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI
import Testing

/// "Nothing a caller passes can crash the process" (include/strata.h). Each call runs in a child
/// process (an exit test), so a trap fails one test instead of ending the run.
@Suite("Hostile arguments do not crash")
struct HostileArgumentTests {
    @Test("load_memory with a size_t above PTRDIFF_MAX returns an error instead of trapping")
    func sizeAboveIntMax() async {
        await #expect(processExitsWith: .success) {
            var model: OpaquePointer? = nil
            let status = TestModels.classifier.withUnsafeBytes {
                strata_model_load_memory($0.baseAddress, Int(bitPattern: UInt.max), &model)  // size = SIZE_MAX
            }
            exit(status != STRATA_STATUS_OK && model == nil ? 0 : 1)
        }
    }

    @Test("load_memory of an image too large to copy returns an error (OUT_OF_MEMORY) instead of trapping")
    func sizeTooLargeToAllocate() async {
        await #expect(processExitsWith: .success) {
            var model: OpaquePointer? = nil
            // No allocator can provide 2^62 bytes: the copy's allocation fails before any byte is read.
            let status = TestModels.classifier.withUnsafeBytes { strata_model_load_memory($0.baseAddress, 1 << 62, &model) }
            exit(status != STRATA_STATUS_OK && model == nil ? 0 : 1)
        }
    }

    @Test("session_run with counts above PTRDIFF_MAX reports, never traps")
    func hugeCounts() throws {
        try withLoaded { loaded in
            var x: [Float] = [1, 2, 3, 4], y = [Float](repeating: 0, count: 3)
            let status = strata_session_run(loaded.session, 1, &x, Int(bitPattern: UInt.max), &y, 3)
            #expect(status == STRATA_STATUS_SHAPE_MISMATCH)
        }
    }
}
