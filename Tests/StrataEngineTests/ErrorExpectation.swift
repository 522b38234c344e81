import StrataCore
import Testing

/// Expects `body` to throw a `StrataError` with `status` and a message containing `substring`.
func expectError(_ status: Status, _ substring: String, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(status) (\"…\(substring)…\"), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as StrataError {
        #expect(e.status == status, "message: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains(substring), "message: \(e.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a StrataError, got \(error)", sourceLocation: sourceLocation)
    }
}
