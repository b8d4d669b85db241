/// Why a PyTorch checkpoint was refused; each names the file and says what to do where it can.
public enum TorchCheckpointError: Error, CustomStringConvertible {
    case cannotRead(file: String, reason: String)
    case notACheckpoint(file: String, reason: String)
    case malformedArchive(file: String, reason: String)
    case malformedPickle(file: String, offset: Int, reason: String)
    /// A global the restricted unpickler does not allow: it was not imported, let alone called.
    case forbiddenGlobal(file: String, global: String)
    case unsupportedOpcode(file: String, offset: Int, opcode: UInt8)
    case invalidTensor(file: String, reason: String)
    case noModelTensors(file: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let file, let reason): "\(file): cannot read: \(reason)"
        case .notACheckpoint(let file, let reason): "\(file): not a PyTorch checkpoint: \(reason)"
        case .malformedArchive(let file, let reason): "\(file): malformed checkpoint archive: \(reason)"
        case .malformedPickle(let file, let offset, let reason): "\(file): malformed pickle at byte \(offset): \(reason)"
        case .forbiddenGlobal(let file, let global):
            "\(file): refused: the pickle names the global '\(global)', which a weights file has no need of and which could run code; nothing was executed (only tensors, containers and numbers are read)"
        case .unsupportedOpcode(let file, let offset, let opcode):
            "\(file): refused: pickle opcode 0x\(String(opcode, radix: 16)) at byte \(offset) builds arbitrary objects; only tensors, containers and numbers are read"
        case .invalidTensor(let file, let reason): "\(file): \(reason)"
        case .noModelTensors(let file, let reason): "\(file): no model weights found: \(reason)"
        }
    }
}
