#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataABI

/// The calling thread's `strata_last_error()` as a String.
func lastError() -> String { String(cString: strata_last_error()) }

/// A pointer value that is not NULL, to check that failing calls reset out-parameters.
var garbagePointer: OpaquePointer? { OpaquePointer(bitPattern: 0xDEAD_BEEF) }

/// `strata_model_load_memory` on `bytes`; the status and the model (NULL on failure).
func loadMemory(_ bytes: [UInt8]) -> (status: Int32, model: OpaquePointer?) {
    var model = garbagePointer
    let status = bytes.withUnsafeBytes { b in
        // An empty array may have no address; an empty image still has a non-NULL pointer.
        withUnsafeBytes(of: 0) { strata_model_load_memory(b.baseAddress ?? $0.baseAddress, b.count, &model) }
    }
    return (status, model)
}

/// A loaded model and a session on it, freed together at deinit. Use through `withLoaded`, so
/// that the handles are not freed while raw pointers to them are still in use.
final class Loaded {
    let model: OpaquePointer
    let session: OpaquePointer

    init(_ bytes: [UInt8] = TestModels.classifier) throws {
        let (status, model) = loadMemory(bytes)
        guard status == STRATA_STATUS_OK, let model else { throw SetupError(message: "load: \(status) \(lastError())") }
        var session: OpaquePointer? = nil
        guard strata_session_create(model, nil, &session) == STRATA_STATUS_OK, let session else {
            strata_model_free(model)
            throw SetupError(message: "session: \(lastError())")
        }
        self.model = model
        self.session = session
    }

    deinit {
        strata_session_free(session)
        strata_model_free(model)
    }

    /// Runs `batch` samples; the status and the output buffer.
    func run(batch: Int64, _ input: [Float], outputCount: Int? = nil) -> (status: Int32, output: [Float]) {
        runSession(session, batch: batch, input, outputCount: outputCount ?? input.count / 4 * 3)
    }
}

/// `strata_session_run` with arrays.
func runSession(_ session: OpaquePointer?, batch: Int64, _ input: [Float], outputCount: Int) -> (status: Int32, output: [Float]) {
    var output = [Float](repeating: .nan, count: max(outputCount, 1))
    let status = input.withUnsafeBufferPointer { i in
        output.withUnsafeMutableBufferPointer { o in
            strata_session_run(session, batch, i.baseAddress ?? UnsafePointer(o.baseAddress!), input.count, o.baseAddress, outputCount)
        }
    }
    return (status, Array(output.prefix(outputCount)))
}

/// Loads `bytes`, creates a session, runs `body`, then frees both.
func withLoaded<R>(_ bytes: [UInt8] = TestModels.classifier, _ body: (Loaded) throws -> R) throws -> R {
    let loaded = try Loaded(bytes)
    return try withExtendedLifetime(loaded) { try body(loaded) }
}

struct SetupError: Error { var message: String }

/// Starts `body` on a new pthread (a fresh thread, unlike the test's pool threads).
func startThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    let arg = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, arg)
    precondition(rc == 0, "pthread_create failed")
    return thread
}

/// Runs `body` on a new pthread and waits for it.
func onNewThread(_ body: @escaping () -> Void) {
    pthread_join(startThread(body), nil)
}
