import StrataCore
import StrataKernels

/// The recurrent state a stateful session holds between runs (docs/EMBEDDING.md "Streaming"):
/// for each batch row, every recurrent layer's final `H` (and `C` for LSTM) of the last run, laid
/// out `[row][Plan.recurrentStateFloats]`. A run reads `current` and writes `next`; only a run
/// that finishes swaps them, so a failed or cancelled run leaves the held state as it was.
struct RecurrentState {
    /// Whether runs carry state over (`Session.setStateful`).
    var enabled = false
    /// Batch rows held; 0 = nothing held (fresh or reset): the next run starts from each layer's
    /// initial state (its H0/C0 input, or zeros).
    var rows = 0
    /// Rows the buffers have room for.
    var capacity = 0
    /// Floats per row (`Plan.recurrentStateFloats`).
    var rowFloats = 0
    /// First batch row of the pass being run (a chunked run advances it).
    var rowOffset = 0
    var current: UnsafeMutablePointer<Float>? = nil
    var next: UnsafeMutablePointer<Float>? = nil

    /// Row 0 of the pass's held state at a layer's offset, or nil when the layer starts from its
    /// initial state (not stateful, or nothing held).
    @inline(__always)
    func heldRows(layerOffset: Int) -> UnsafeMutablePointer<Float>? {
        guard enabled, rows > 0, let current else { return nil }
        return current + rowOffset * rowFloats + layerOffset
    }

    /// Row 0 of the pass's state to write at a layer's offset, or nil when not stateful.
    @inline(__always)
    func nextRows(layerOffset: Int) -> UnsafeMutablePointer<Float>? {
        guard enabled, let next else { return nil }
        return next + rowOffset * rowFloats + layerOffset
    }

    /// Frees the buffers.
    mutating func release() {
        freeAligned(current)
        freeAligned(next)
        current = nil; next = nil; capacity = 0; rows = 0
    }
}

extension Session {
    /// Whether the session keeps recurrent state between runs (`setStateful`).
    public var isStateful: Bool { recurrentState.enabled }

    /// Turns streaming on or off. When on, each run of a recurrent layer (RNN, GRU, LSTM) starts
    /// from the state the previous run of this session ended with, per batch row, so feeding a
    /// sequence in chunks gives bitwise the outputs of one run over the whole sequence. The first
    /// run after turning it on (or after `resetState`) starts from the layers' initial state (the
    /// model's H0/C0 inputs, or zeros). Either call forgets the held state.
    /// - Throws: `unsupported` when the model has no recurrent layer, or the session's memory is
    ///   a caller's workspace (the held state would need memory outside it).
    public func setStateful(_ enabled: Bool) throws(StrataError) {
        if enabled {
            guard model.plan.recurrentStateFloats > 0 else {
                throw StrataError(.unsupported, "this model has no recurrent layer (RNN, GRU, LSTM); a stateful session needs one")
            }
            guard !model.plan.hasReverseRecurrent else {
                throw StrataError(.unsupported, "this model has a recurrent layer that runs backwards in time (direction \"reverse\", e.g. half of a bidirectional layer); it needs the whole sequence at once and cannot stream")
            }
            guard memory.callerArena == nil else {
                throw StrataError(.unsupported, "a stateful session cannot use a caller's workspace: its held recurrent state lives outside it; leave the workspace NULL")
            }
        }
        recurrentState.enabled = enabled
        recurrentState.rowFloats = model.plan.recurrentStateFloats
        resetState()
    }

    /// Forgets the held state: the next run starts each stream again from the initial state. Keeps
    /// the buffers (a later run at the same batch allocates nothing).
    public func resetState() {
        recurrentState.rows = 0
    }

    /// Before a stateful run of `batch` rows: checks the batch against the held state and makes
    /// room for it. Does nothing when not stateful.
    /// - Throws: `invalidArgument` when state for a different batch is held; `outOfMemory`.
    func prepareState(batch: Int) throws(StrataError) {
        guard recurrentState.enabled else { return }
        let held = recurrentState.rows
        guard held == 0 || held == batch else {
            throw StrataError(.invalidArgument, "this stateful session holds the state of \(held) streams (one per batch row) but the run has batch \(batch); run \(held) rows, or reset the state first")
        }
        guard batch > recurrentState.capacity else { return }
        guard let floats = checkedMul(batch, recurrentState.rowFloats), let bytes = checkedMul(floats, 4),
              let a = allocateAligned(bytes: bytes) else {
            throw StrataError(.outOfMemory, "cannot allocate the recurrent state of \(batch) streams")
        }
        guard let b = allocateAligned(bytes: bytes) else {
            freeAligned(a)
            throw StrataError(.outOfMemory, "cannot allocate the recurrent state of \(batch) streams")
        }
        recurrentState.release()
        recurrentState.current = a.bindMemory(to: Float.self, capacity: floats)
        recurrentState.next = b.bindMemory(to: Float.self, capacity: floats)
        recurrentState.capacity = batch
    }

    /// After a stateful run of `batch` rows finished: the state it wrote becomes the held state.
    func commitState(batch: Int) {
        guard recurrentState.enabled else { return }
        // Not `swap(&recurrentState.current, &recurrentState.next)`: two overlapping modify accesses
        // to `recurrentState`, which a build with exclusivity checks stops as a conflict.
        let written = recurrentState.next
        recurrentState.next = recurrentState.current
        recurrentState.current = written
        recurrentState.rows = batch
    }

    /// Copies a layer's held `H` (and `C`) of `batch` rows into the running state.
    func loadHeldState(_ held: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                       c: UnsafeMutablePointer<Float>?, batch: Int, hidden: Int) {
        let stride = recurrentState.rowFloats
        copy_rows_f32(x: held, ldx: stride, y: h, ldy: hidden, rows: batch, cols: hidden)
        if let c { copy_rows_f32(x: held + hidden, ldx: stride, y: c, ldy: hidden, rows: batch, cols: hidden) }
    }

    /// Copies a layer's final `H` (and `C`) of `batch` rows into the next held state.
    func storeHeldState(_ next: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                        c: UnsafeMutablePointer<Float>?, batch: Int, hidden: Int) {
        let stride = recurrentState.rowFloats
        copy_rows_f32(x: h, ldx: hidden, y: next, ldy: stride, rows: batch, cols: hidden)
        if let c { copy_rows_f32(x: c, ldx: hidden, y: next + hidden, ldy: stride, rows: batch, cols: hidden) }
    }
}
