
/// Time spent in each step of a plan, accumulated over the profiled runs of a session.
/// Storage is made when profiling is turned on, so a profiled run still allocates nothing.
public struct Profile: Sendable {
    /// The steps, as `Model.steps` describes them.
    public let steps: [StepDescription]
    /// Accumulated nanoseconds per step.
    public private(set) var nanoseconds: [UInt64]
    /// Number of runs accumulated.
    public internal(set) var runs = 0

    init(steps: [StepDescription]) {
        self.steps = steps
        self.nanoseconds = [UInt64](repeating: 0, count: steps.count)
    }

    mutating func record(step: Int, nanoseconds ns: UInt64) {
        nanoseconds[step] &+= ns
    }

    /// Mean microseconds per run of step `index` (0 before any run).
    public func meanMicroseconds(step index: Int) -> Double {
        runs == 0 ? 0 : Double(nanoseconds[index]) / Double(runs) / 1000
    }

    /// Monotonic clock in nanoseconds.
    @inline(__always)
    public static func now() -> UInt64 { monotonicNanoseconds() }
}
