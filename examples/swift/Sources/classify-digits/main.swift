// classify-digits MODEL IMAGES.f32 — load the model examples/cnn_digits.py wrote, run every test
// image in one batch and print one predicted class per image ("predictions: 3 7 ...", the same
// line as cnn_digits.py). Errors are Strata's typed errors: status and sentence, exit status 1.
//
//   swift build -c release --package-path examples/swift
//   examples/swift/.build/release/classify-digits build/examples/cnn_digits.strata build/examples/digits_test.f32
import Foundation
import StrataSwift

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: classify-digits MODEL IMAGES.f32\n".utf8))
    exit(2)
}
guard let bytes = FileManager.default.contents(atPath: arguments[2]) else {
    FileHandle.standardError.write(Data("classify-digits: cannot read '\(arguments[2])'\n".utf8))
    exit(1)
}
// Raw little-endian float32 values, image after image.
let images: [Float] = bytes.withUnsafeBytes { raw in
    (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
}

do {
    let model = try Model(path: arguments[1])              // validated and mapped once
    let session = try model.makeSession()                   // one per thread; reuse it for every batch
    let logits = try session.run(images)                    // the batch is images.count / sample size
    let classes = model.outputs[0].sampleCount
    let predictions = stride(from: 0, to: logits.count, by: classes).map { start in
        logits[start..<(start + classes)].indices.max { logits[$0] < logits[$1] }! - start
    }
    print("predictions: " + predictions.map(String.init).joined(separator: " "))
} catch {
    let failure: StrataError = error                        // typed throws: always a StrataError
    FileHandle.standardError.write(Data("classify-digits: \(failure.status.name): \(failure.message)\n".utf8))
    exit(1)
}
