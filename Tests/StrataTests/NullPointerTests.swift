import CStrataABI
import Testing

/// One NULL pointer argument of one function. `call` returns the status, or for functions that
/// return a pointer, NULL_POINTER when they returned NULL (and OK otherwise).
struct NullArgument: Sendable, CustomTestStringConvertible {
    var function: String
    var argument: String
    var call: @Sendable (_ model: OpaquePointer, _ session: OpaquePointer) -> Int32
    var testDescription: String { "\(function)(\(argument) = NULL)" }
}

private func nullIfNil(_ p: UnsafePointer<CChar>?) -> Int32 { p == nil ? STRATA_STATUS_NULL_POINTER : STRATA_STATUS_OK }

let nullArguments: [NullArgument] = {
    let bytes = TestModels.classifier
    return [
        NullArgument(function: "strata_model_load_file", argument: "path") { _, _ in var o: OpaquePointer? = nil; return strata_model_load_file(nil, &o) },
        NullArgument(function: "strata_model_load_file", argument: "out_model") { _, _ in strata_model_load_file("/nonexistent", nil) },
        NullArgument(function: "strata_model_load_memory", argument: "data") { _, _ in var o: OpaquePointer? = nil; return strata_model_load_memory(nil, 64, &o) },
        NullArgument(function: "strata_model_load_memory", argument: "out_model") { _, _ in
            bytes.withUnsafeBytes { strata_model_load_memory($0.baseAddress, $0.count, nil) }
        },
        NullArgument(function: "strata_model_n_inputs", argument: "model") { _, _ in strata_model_n_inputs(nil) },
        NullArgument(function: "strata_model_n_outputs", argument: "model") { _, _ in strata_model_n_outputs(nil) },
        NullArgument(function: "strata_model_input_name", argument: "model") { _, _ in nullIfNil(strata_model_input_name(nil, 0)) },
        NullArgument(function: "strata_model_output_name", argument: "model") { _, _ in nullIfNil(strata_model_output_name(nil, 0)) },
        NullArgument(function: "strata_model_input_shape", argument: "model") { _, _ in var d: Int64 = 0, r = 0; return strata_model_input_shape(nil, 0, &d, 1, &r) },
        NullArgument(function: "strata_model_input_shape", argument: "out_dims") { m, _ in var r = 0; return strata_model_input_shape(m, 0, nil, 8, &r) },
        NullArgument(function: "strata_model_input_shape", argument: "out_rank") { m, _ in var d = [Int64](repeating: 0, count: 8); return strata_model_input_shape(m, 0, &d, 8, nil) },
        NullArgument(function: "strata_model_output_shape", argument: "model") { _, _ in var d: Int64 = 0, r = 0; return strata_model_output_shape(nil, 0, &d, 1, &r) },
        NullArgument(function: "strata_model_output_shape", argument: "out_dims") { m, _ in var r = 0; return strata_model_output_shape(m, 0, nil, 8, &r) },
        NullArgument(function: "strata_model_output_shape", argument: "out_rank") { m, _ in var d = [Int64](repeating: 0, count: 8); return strata_model_output_shape(m, 0, &d, 8, nil) },
        NullArgument(function: "strata_model_metadata", argument: "model") { _, _ in nullIfNil(strata_model_metadata(nil, "producer")) },
        NullArgument(function: "strata_model_metadata", argument: "key") { m, _ in nullIfNil(strata_model_metadata(m, nil)) },
        NullArgument(function: "strata_session_create", argument: "model") { _, _ in var s: OpaquePointer? = nil; return strata_session_create(nil, nil, &s) },
        NullArgument(function: "strata_session_create", argument: "out_session") { m, _ in strata_session_create(m, nil, nil) },
        NullArgument(function: "strata_session_run", argument: "session") { _, _ in
            var x: [Float] = [1, 2, 3, 4], y = [Float](repeating: 0, count: 3); return strata_session_run(nil, 1, &x, 4, &y, 3)
        },
        NullArgument(function: "strata_session_run", argument: "input") { _, s in
            var y = [Float](repeating: 0, count: 3); return strata_session_run(s, 1, nil, 4, &y, 3)
        },
        NullArgument(function: "strata_session_run", argument: "output") { _, s in
            var x: [Float] = [1, 2, 3, 4]; return strata_session_run(s, 1, &x, 4, nil, 3)
        },
        NullArgument(function: "strata_session_workspace_size", argument: "model") { _, _ in var b = 0; return strata_session_workspace_size(nil, nil, 1, &b) },
        NullArgument(function: "strata_session_workspace_size", argument: "out_bytes") { m, _ in strata_session_workspace_size(m, nil, 1, nil) },
    ]
}()

@Suite("NULL pointer arguments")
struct NullPointerTests {
    @Test("every NULL pointer argument is NULL_POINTER with a message naming the function and argument",
          arguments: nullArguments)
    func nullArgument(_ c: NullArgument) throws {
        try withLoaded { loaded in
            #expect(c.call(loaded.model, loaded.session) == STRATA_STATUS_NULL_POINTER)
            #expect(lastError().contains("'\(c.argument)'"), "\(lastError())")
            #expect(lastError().contains(c.function), "\(lastError())")
        }
    }

    @Test("the list above covers every pointer parameter of every function that takes one")
    func coverage() {
        let covered = Set(nullArguments.map(\.function))
        let functionsWithPointers: Set<String> = [
            "strata_model_load_file", "strata_model_load_memory", "strata_model_n_inputs", "strata_model_n_outputs",
            "strata_model_input_name", "strata_model_output_name", "strata_model_input_shape", "strata_model_output_shape",
            "strata_model_metadata", "strata_session_create", "strata_session_run", "strata_session_workspace_size",
        ]
        #expect(covered == functionsWithPointers)
        #expect(nullArguments.count == 23)
    }

    @Test("NULL params to strata_session_create means defaults, not an error")
    func nullParams() throws {
        try withLoaded { loaded in
            var s: OpaquePointer? = nil
            #expect(strata_session_create(loaded.model, nil, &s) == STRATA_STATUS_OK)
            strata_session_free(s)
        }
    }
}
