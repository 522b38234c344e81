#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif
import StrataCore
import StrataEngine

/// What a `strata_model *` points to: the engine's model plus C strings for every name and
/// metadata value, made once so getters return stable pointers without allocating.
final class ModelHandle {
    let model: Model
    let inputNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]
    let metadata: [(key: String, value: UnsafeMutablePointer<CChar>)]

    /// - Throws: `outOfMemory` when a string copy cannot be allocated (nothing leaks).
    convenience init(model: Model) throws(StrataError) {
        var made: [UnsafeMutablePointer<CChar>] = []
        func copy(_ s: String) throws(StrataError) -> UnsafeMutablePointer<CChar> {
            guard let p = strdup(s) else {
                for q in made { free(q) }
                throw StrataError(.outOfMemory, "cannot allocate the model's name strings")
            }
            made.append(p)
            return p
        }
        let inputNames = try model.inputs.map { info throws(StrataError) in try copy(info.name) }
        let outputNames = try model.outputs.map { info throws(StrataError) in try copy(info.name) }
        let metadata = try model.metadata.map { entry throws(StrataError) in
            (key: entry.key, value: try copy(entry.value))
        }
        self.init(model: model, inputNames: inputNames, outputNames: outputNames, metadata: metadata)
    }

    // Throwing initializers here are convenience initializers that throw before they delegate:
    // Embedded Swift (the `make lib` build) never frees an object whose designated initializer
    // throws before every stored property is set.
    private init(model: Model, inputNames: [UnsafeMutablePointer<CChar>], outputNames: [UnsafeMutablePointer<CChar>],
                 metadata: [(key: String, value: UnsafeMutablePointer<CChar>)]) {
        self.model = model
        self.inputNames = inputNames
        self.outputNames = outputNames
        self.metadata = metadata
    }

    deinit {
        for p in inputNames + outputNames { free(p) }
        for m in metadata { free(m.value) }
    }

    static func from(_ p: OpaquePointer) -> ModelHandle {
        Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

/// What a `strata_session *` points to. Holds a strong reference to the model handle, so a
/// model freed while a session lives stays valid until the session is freed too.
final class SessionHandle {
    let modelHandle: ModelHandle
    let session: Session
    /// "Linear+Relu [fc1, relu] [N, 784] -> [N, 128]" per plan step, for the profile calls.
    let stepNames: [UnsafeMutablePointer<CChar>]
    /// The atomic in-use word of the one-call-at-a-time rule (SessionInUse.swift).
    let inUse = SessionInUseFlag()

    /// - Throws: `outOfMemory` when a step name cannot be copied (nothing leaks).
    convenience init(modelHandle: ModelHandle, session: Session) throws(StrataError) {
        var names: [UnsafeMutablePointer<CChar>] = []
        for step in session.model.steps {
            guard let p = strdup("\(step.kind) [\(step.nodes.joined(separator: ", "))] \(step.shapes)") else {
                for q in names { free(q) }
                throw StrataError(.outOfMemory, "cannot allocate the session's step names")
            }
            names.append(p)
        }
        self.init(modelHandle: modelHandle, session: session, stepNames: names)
    }

    private init(modelHandle: ModelHandle, session: Session, stepNames: [UnsafeMutablePointer<CChar>]) {
        self.modelHandle = modelHandle
        self.session = session
        self.stepNames = stepNames
    }

    deinit { for p in stepNames { free(p) } }

    static func from(_ p: OpaquePointer) -> SessionHandle {
        Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}
