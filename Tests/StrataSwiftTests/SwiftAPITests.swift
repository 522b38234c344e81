import Testing
import StrataCore
import StrataFormat
import StrataSwift
#if canImport(Glibc)
import Glibc
#endif

/// The Swift API (`import StrataSwift`): Model and Session over the engine, typed throws,
/// [Float] and buffer pointers in and out.
@Suite struct SwiftAPITests {
    /// `image [N, 2, 2]` → Flatten → Linear 4→3 → Relu → `scores [N, 3]`, labels zero/one/two.
    static let classifier: [UInt8] = {
        var spec = ModelSpec()
        spec.metadata = [(key: "producer", value: "SwiftAPITests"), (key: "class_labels", value: "zero\none\ntwo")]
        spec.tensors = [.init(name: "fc.weight", dims: [3, 4], values: [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1]),
                        .init(name: "fc.bias", dims: [3], values: [0, -1, 0.5])]
        spec.inputs = [ValueInfo(name: "image", dims: [-1, 2, 2])]
        spec.outputs = [ValueInfo(name: "scores", dims: [-1, 3])]
        spec.nodes = [Node(op: "Flatten", name: "flatten", inputs: ["image"], outputs: ["flat"]),
                      Node(op: "Linear", name: "fc", inputs: ["flat", "fc.weight", "fc.bias"], outputs: ["z"]),
                      Node(op: "Relu", name: "relu", inputs: ["z"], outputs: ["scores"])]
        return ModelWriter.serialize(spec)
    }()
    static let input: [Float] = [1, 2, 3, 4, -1, -2, 0, 0]
    static let expected: [Float] = [1, 1, 10.5, 0, 0, 0]

    /// `x [N, 3]` → `y = Relu(x)` and `x` itself: two outputs.
    static let twoOutputs: [UInt8] = {
        var spec = ModelSpec()
        spec.inputs = [ValueInfo(name: "x", dims: [-1, 3])]
        spec.outputs = [ValueInfo(name: "y", dims: [-1, 3]), ValueInfo(name: "x", dims: [-1, 3])]
        spec.nodes = [Node(op: "Relu", name: "relu", inputs: ["x"], outputs: ["y"])]
        return ModelWriter.serialize(spec)
    }()

    @Test func describesTheModel() throws {
        let model = try Model(bytes: Self.classifier)
        #expect(model.inputs == [TensorInfo(name: "image", shape: [nil, 2, 2])])
        #expect(model.inputs[0].sampleCount == 4 && model.inputs[0].sampleShape == [2, 2])
        #expect(model.outputs[0].description == "scores [N, 3]")
        #expect(model.classLabels == ["zero", "one", "two"])
        #expect(model.metadata("producer") == "SwiftAPITests" && model.metadata("nope") == nil)
        #expect(model.parameterCount == 15)
    }

    @Test(arguments: [1, 2]) func runsArrays(threads: Int) throws {
        let session = try Model(bytes: Self.classifier).makeSession(threads: threads)
        #expect(session.threads == threads)
        #expect(try session.run(Self.input) == Self.expected)
        #expect(try session.run([]) == [])  // batch 0: an empty result
    }

    @Test func runsBufferPointersWithoutCopies() throws {
        let session = try Model(bytes: Self.classifier).makeSession()
        var output = [Float](repeating: -1, count: 6)
        let batch = try Self.input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in try session.run(x, into: y) }
        }
        #expect(batch == 2 && output == Self.expected)
        var short = [Float](repeating: 0, count: 5)
        let error = #expect(throws: StrataError.self) {
            try Self.input.withUnsafeBufferPointer { x in try short.withUnsafeMutableBufferPointer { y in try session.run(x, into: y) } }
        }
        #expect(error?.status == .shapeMismatch)
    }

    @Test func refusesPartialSamples() throws {
        let session = try Model(bytes: Self.classifier).makeSession()
        let error = #expect(throws: StrataError.self) { try session.run([1, 2, 3]) }
        #expect(error?.status == .shapeMismatch && error?.message.contains("whole number of samples") == true)
    }

    @Test func typedThrowsNameTheProblem() throws {
        do {
            _ = try Model(path: "/nonexistent/model.strata")
            Issue.record("loaded a missing file")
        } catch {
            let typed: StrataError = error  // typed throws: no cast
            #expect(typed.status == .ioError && typed.message.contains("/nonexistent/model.strata"))
        }
        #expect(throws: StrataError.self) { try Model(bytes: [1, 2, 3]) }
        let model = try Model(bytes: Self.classifier)
        let error = #expect(throws: StrataError.self) { try model.makeSession(threads: 0) }
        #expect(error?.status == .invalidArgument)
    }

    @Test func loadsFromAPath() throws {
        let path = "/tmp/strata-swift-api-\(getpid()).strata"
        let file = fopen(path, "wb")!
        _ = Self.classifier.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        defer { unlink(path) }
        #expect(try Model(path: path).makeSession().run(Self.input) == Self.expected)
    }

    @Test func multipleInputsAndOutputs() throws {
        let model = try Model(bytes: Self.twoOutputs)
        let session = try model.makeSession()
        let results = try session.run(inputs: [[-1, 2, -3, 4, -5, 6]])
        #expect(results == [[0, 2, 0, 4, 0, 6], [-1, 2, -3, 4, -5, 6]])
        let error = #expect(throws: StrataError.self) { try session.run([1, 2, 3]) }
        #expect(error?.status == .unsupported)
        #expect(throws: StrataError.self) { try session.run(inputs: []) }
    }

    @Test func modelIsSendableAcrossTasks() async throws {
        let model = try Model(bytes: Self.classifier)
        let results = try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<4 { group.addTask { try model.makeSession().run(Self.input) } }
            return try await group.reduce(into: [[Float]]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: Self.expected, count: 4))
    }

    @Test func selfTestWithoutDataIsUnsupported() throws {
        let error = #expect(throws: StrataError.self) { try Model(bytes: Self.classifier).selfTest() }
        #expect(error?.status == .unsupported)
    }
}
