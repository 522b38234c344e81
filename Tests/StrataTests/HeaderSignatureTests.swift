import CStrataABI
import Strata
import Testing

/// Compiles only when both arguments have the same Swift function type.
private func sameSignature<F>(_ header: F, _ swift: F) -> Bool { true }

/// The other tests call the functions as C code does, through the declarations of
/// include/strata.h (module CStrataABI), which link to the `@_cdecl` symbols of module Strata.
/// This file pins the two views to each other: a parameter or return type that drifts between
/// the header and the Swift definition stops the test target from compiling.
@Suite("Header and @_cdecl definitions agree")
struct HeaderSignatureTests {
    @Test("every function of include/strata.h has the same signature as its Swift definition")
    func signatures() {
        #expect(sameSignature(CStrataABI.strata_version, Strata.strata_version))
        #expect(sameSignature(CStrataABI.strata_abi_version, Strata.strata_abi_version))
        #expect(sameSignature(CStrataABI.strata_status_string, Strata.strata_status_string))
        #expect(sameSignature(CStrataABI.strata_last_error, Strata.strata_last_error))
        #expect(sameSignature(CStrataABI.strata_model_load_file, Strata.strata_model_load_file))
        #expect(sameSignature(CStrataABI.strata_model_load_memory, Strata.strata_model_load_memory))
        #expect(sameSignature(CStrataABI.strata_model_free, Strata.strata_model_free))
        #expect(sameSignature(CStrataABI.strata_model_n_inputs, Strata.strata_model_n_inputs))
        #expect(sameSignature(CStrataABI.strata_model_n_outputs, Strata.strata_model_n_outputs))
        #expect(sameSignature(CStrataABI.strata_model_input_name, Strata.strata_model_input_name))
        #expect(sameSignature(CStrataABI.strata_model_output_name, Strata.strata_model_output_name))
        #expect(sameSignature(CStrataABI.strata_model_input_shape, Strata.strata_model_input_shape))
        #expect(sameSignature(CStrataABI.strata_model_output_shape, Strata.strata_model_output_shape))
        #expect(sameSignature(CStrataABI.strata_model_metadata, Strata.strata_model_metadata))
        #expect(sameSignature(CStrataABI.strata_session_default_params, Strata.strata_session_default_params))
        #expect(sameSignature(CStrataABI.strata_session_create, Strata.strata_session_create))
        #expect(sameSignature(CStrataABI.strata_session_free, Strata.strata_session_free))
        #expect(sameSignature(CStrataABI.strata_session_run, Strata.strata_session_run))
        #expect(sameSignature(CStrataABI.strata_session_workspace_size, Strata.strata_session_workspace_size))
    }

    @Test("calling through the header reaches the Swift definitions")
    func sameSymbols() {
        #expect(CStrataABI.strata_version() == Strata.strata_version())
        #expect(String(cString: Strata.strata_version()) == "\(STRATA_VERSION_MAJOR).\(STRATA_VERSION_MINOR).\(STRATA_VERSION_PATCH)")
        #expect(CStrataABI.strata_status_string(-7) == Strata.strata_status_string(-7))
        _ = CStrataABI.strata_model_n_inputs(nil)
        #expect(CStrataABI.strata_last_error() == Strata.strata_last_error())
    }
}
