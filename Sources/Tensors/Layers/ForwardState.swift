/// A module whose forward pass changes its own state: a dropout stream advances, batch norm's
/// running statistics move. A checkpointed block (`checkpointed`) captures that state before its
/// first pass and puts it back before recomputing, so the recomputation draws the same masks.
public protocol ForwardStateful: AnyObject {
    /// Captures the state; calling the result puts it back.
    func captureForwardState() -> () -> Void
}

/// The forward state of every `ForwardStateful` module below (and including) one module.
struct ForwardStateSnapshot {
    private let restorers: [() -> Void]

    init(of module: Module) {
        restorers = module.namedModules().compactMap { ($0.1 as? ForwardStateful)?.captureForwardState() }
    }

    func restore() { for restore in restorers { restore() } }
}
