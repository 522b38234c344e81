import CStrataABI
import Testing

/// `strata_model_input_shape` or `strata_model_output_shape`.
typealias ShapeQuery = (OpaquePointer?, Int32, UnsafeMutablePointer<Int64>?, Int, UnsafeMutablePointer<Int>?) -> Int32

@Suite("Model queries")
struct ModelQueryTests {
    @Test("input and output counts and names")
    func countsAndNames() throws {
        try withLoaded { loaded in
            let m = loaded.model
            #expect(strata_model_n_inputs(m) == 1)
            #expect(strata_model_n_outputs(m) == 1)
            #expect(strata_model_input_name(m, 0).map { String(cString: $0) } == "image")
            #expect(strata_model_output_name(m, 0).map { String(cString: $0) } == "scores")
        }
        try withLoaded(TestModels.twoOutputs) { two in
            #expect(strata_model_n_inputs(two.model) == 1)
            #expect(strata_model_n_outputs(two.model) == 2)
            #expect(strata_model_output_name(two.model, 1).map { String(cString: $0) } == "x")
        }
    }

    @Test("a name index out of range gives NULL and a message", arguments: [-1, 1, Int32.max])
    func nameIndexOutOfRange(index: Int32) throws {
        try withLoaded { loaded in
            #expect(strata_model_input_name(loaded.model, index) == nil)
            #expect(lastError().contains("index \(index) is out of range"), "\(lastError())")
            #expect(strata_model_output_name(loaded.model, index) == nil)
            #expect(lastError().contains("strata_model_output_name"), "\(lastError())")
        }
    }

    @Test("shapes: rank and dims, with -1 for the batch")
    func shapes() throws {
        try withLoaded { loaded in
            var dims = [Int64](repeating: 99, count: 8)
            var rank = 0
            #expect(strata_model_input_shape(loaded.model, 0, &dims, 8, &rank) == STRATA_STATUS_OK)
            #expect(rank == 3 && Array(dims.prefix(3)) == [-1, 2, 2] && dims[3] == 99)
            #expect(strata_model_output_shape(loaded.model, 0, &dims, 2, &rank) == STRATA_STATUS_OK)
            #expect(rank == 2 && Array(dims.prefix(2)) == [-1, 3])
        }
    }

    @Test("capacity below the rank is BUFFER_TOO_SMALL with *out_rank set and out_dims untouched",
          arguments: [0, 1, 2])
    func shapeCapacityTooSmall(capacity: Int) throws {
        try withLoaded { loaded in
            var dims = [Int64](repeating: 99, count: 3)
            var rank = 0
            let status = dims.withUnsafeMutableBufferPointer {
                strata_model_input_shape(loaded.model, 0, capacity == 0 ? nil : $0.baseAddress, capacity, &rank)
            }
            #expect(status == STRATA_STATUS_BUFFER_TOO_SMALL)
            #expect(rank == 3)
            #expect(dims == [99, 99, 99])
            #expect(lastError().contains("rank 3"), "\(lastError())")
        }
    }

    @Test("a shape index out of range is INVALID_ARGUMENT", arguments: [-1, 1])
    func shapeIndexOutOfRange(index: Int32) throws {
        try withLoaded { loaded in
            var dims = [Int64](repeating: 0, count: 8)
            var rank = 0
            for query in [strata_model_input_shape, strata_model_output_shape] as [ShapeQuery] {
                #expect(query(loaded.model, index, &dims, 8, &rank) == STRATA_STATUS_INVALID_ARGUMENT)
                #expect(lastError().contains("index \(index) is out of range"), "\(lastError())")
            }
        }
    }

    @Test("metadata: present keys give their value (empty included), absent keys NULL without an error")
    func metadata() throws {
        try withLoaded { loaded in
            #expect(strata_model_metadata(loaded.model, "producer").map { String(cString: $0) } == "StrataTests")
            #expect(strata_model_metadata(loaded.model, "class_labels").map { String(cString: $0) } == "zero\none\ntwo")
            #expect(strata_model_metadata(loaded.model, "description").map { String(cString: $0) } == "")
            _ = strata_model_n_inputs(nil)  // leaves a known message
            let before = lastError()
            #expect(strata_model_metadata(loaded.model, "no such key") == nil)
            #expect(strata_model_metadata(loaded.model, "") == nil)
            #expect(lastError() == before, "absence alone does not set strata_last_error()")
        }
    }

    @Test("names and metadata values stay valid while the model lives")
    func stablePointers() throws {
        try withLoaded { loaded in
            let name = strata_model_input_name(loaded.model, 0)
            let value = strata_model_metadata(loaded.model, "producer")
            #expect(strata_model_input_name(loaded.model, 0) == name)
            #expect(strata_model_metadata(loaded.model, "producer") == value)
            _ = loadMemory([1, 2, 3])  // a failure in between changes nothing
            #expect(name.map { String(cString: $0) } == "image" && value.map { String(cString: $0) } == "StrataTests")
        }
    }
}
