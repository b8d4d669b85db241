import Foundation

/// A pickle reader (protocols 0–5) that builds only `PickleValue`s. Globals are looked up in
/// `TorchGlobal`'s allow-list when the pickle names them, so a forbidden one (`os.system`,
/// `builtins.eval`, …) stops the read before anything could call it; calls (REDUCE, NEWOBJ) are
/// evaluated here for the allowed globals alone. Opcodes that build arbitrary objects (INST, OBJ,
/// extension codes) are refused. Every length is checked against the bytes left.
struct RestrictedUnpickler {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Turns a persistent id (torch's storage references) into a value; nil refuses persistent ids.
    var persistentLoad: ((PickleValue) throws -> PickleValue)?
    private(set) var position: Int

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var opcodeStart = 0

    init(bytes: UnsafeRawBufferPointer, file: String, start: Int = 0,
         persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) {
        self.bytes = bytes
        self.file = file
        self.position = start
        self.persistentLoad = persistentLoad
    }

    private func fail(_ reason: String) -> TorchCheckpointError {
        .malformedPickle(file: file, offset: opcodeStart, reason: reason)
    }

    // MARK: Reading bytes

    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else { throw fail("needs \(count) bytes, \(bytes.count - position) are left (truncated?)") }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func byte() throws -> UInt8 { try take(1)[0] }
    private mutating func u16() throws -> Int { Int(UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self))) }
    private mutating func u32() throws -> Int { Int(UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))) }
    private mutating func i32() throws -> Int64 { Int64(Int32(littleEndian: try take(4).loadUnaligned(as: Int32.self))) }
    private mutating func u64() throws -> Int {
        let value = UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
        guard value <= UInt64(Int.max) else { throw fail("a length of \(value) bytes") }
        return Int(value)
    }

    private mutating func line() throws -> String {
        guard let newline = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text argument") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<newline]), as: UTF8.self)
        position = newline + 1
        return text
    }

    private mutating func utf8(_ count: Int) throws -> String {
        guard let text = String(validating: try take(count), as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
        return text
    }

    // MARK: The stack

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return stack.removeLast()
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no MARK to pop to") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    /// What is on top of the stack, for messages.
    private var topKind: String { stack.last?.kind ?? "nothing" }

    private func top() throws -> PickleValue {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return last
    }

    private static func integer(littleEndian raw: UnsafeRawBufferPointer) -> PickleValue {
        guard raw.count > 0 else { return .int(0) }
        if raw.count <= 8 {
            var value: UInt64 = 0
            for (k, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(k)) }
            if raw.count < 8, raw[raw.count - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(raw.count)) }  // sign-extend
            return .int(Int64(bitPattern: value))
        }
        return .bigInt(Array(raw))
    }

    // MARK: Reading one pickle

    /// Reads one pickle up to its STOP and returns its value; `position` is then just past it.
    mutating func load() throws -> PickleValue {
        while true {
            opcodeStart = position
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try u64()                                    // FRAME (framing is advisory)
            case UInt8(ascii: "."):                                     // STOP
                guard marks.isEmpty, stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
                return stack[0]
            case UInt8(ascii: "("): marks.append(stack.count)           // MARK
            case UInt8(ascii: "0"): _ = try pop()                       // POP
            case UInt8(ascii: "1"): _ = try popMark()                   // POP_MARK
            case UInt8(ascii: "2"): stack.append(try top())             // DUP
            case UInt8(ascii: "N"): stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case UInt8(ascii: "I"):                                     // INT (text; 00/01 are False/True)
                let text = try line()
                if text == "00" { stack.append(.bool(false)) } else if text == "01" { stack.append(.bool(true)) } else {
                    guard let value = Int64(text) else { throw fail("INT '\(text)'") }
                    stack.append(.int(value))
                }
            case UInt8(ascii: "L"):                                     // LONG (text)
                var text = try line()
                if text.hasSuffix("L") { text.removeLast() }
                guard let value = Int64(text) else { throw fail("LONG '\(text)' beyond 64 bits") }
                stack.append(.int(value))
            case UInt8(ascii: "J"): stack.append(.int(try i32()))       // BININT
            case UInt8(ascii: "K"): stack.append(.int(Int64(try byte())))
            case UInt8(ascii: "M"): stack.append(.int(Int64(try u16())))
            case 0x8A: stack.append(Self.integer(littleEndian: try take(Int(try byte()))))  // LONG1
            case 0x8B:                                                  // LONG4
                let count = try i32()
                guard count >= 0 else { throw fail("negative LONG4 length") }
                stack.append(Self.integer(littleEndian: try take(Int(count))))
            case UInt8(ascii: "F"):                                     // FLOAT (text)
                let text = try line()
                guard let value = Double(text) else { throw fail("FLOAT '\(text)'") }
                stack.append(.float(value))
            case UInt8(ascii: "G"):                                     // BINFLOAT (big-endian)
                stack.append(.float(Double(bitPattern: UInt64(bigEndian: try take(8).loadUnaligned(as: UInt64.self)))))
            case UInt8(ascii: "X"): stack.append(.string(try utf8(try u32())))        // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(Int(try byte()))))               // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try utf8(try u64())))                     // BINUNICODE8
            case UInt8(ascii: "V"): stack.append(.string(try line()))                 // UNICODE (raw-unicode-escape, ASCII in practice)
            case UInt8(ascii: "S"):                                                   // STRING (quoted repr)
                var text = try line()
                if text.count >= 2, let first = text.first, first == text.last, first == "'" || first == "\"" {
                    text = String(text.dropFirst().dropLast())
                }
                stack.append(.string(text))
            case UInt8(ascii: "T"): stack.append(.string(String(decoding: try take(try u32()), as: UTF8.self)))        // BINSTRING
            case UInt8(ascii: "U"): stack.append(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))  // SHORT_BINSTRING
            case UInt8(ascii: "B"): stack.append(.bytes(Array(try take(try u32()))))  // BINBYTES
            case UInt8(ascii: "C"): stack.append(.bytes(Array(try take(Int(try byte())))))
            case 0x8E, 0x96: stack.append(.bytes(Array(try take(try u64()))))          // BINBYTES8, BYTEARRAY8
            case UInt8(ascii: "]"): stack.append(.list(PickleList()))
            case UInt8(ascii: "l"): stack.append(.list(PickleList(try popMark())))     // LIST
            case UInt8(ascii: "a"):                                                    // APPEND
                let value = try pop()
                guard case .list(let list) = try top() else { throw fail("APPEND to a \(topKind)") }
                list.items.append(value)
            case UInt8(ascii: "e"):                                                    // APPENDS
                let values = try popMark()
                switch try top() {
                case .list(let list): list.items += values
                default: throw fail("APPENDS to a \(topKind)")
                }
            case UInt8(ascii: ")"): stack.append(.tuple([]))
            case UInt8(ascii: "t"): stack.append(.tuple(try popMark()))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case UInt8(ascii: "}"): stack.append(.dict(PickleDict()))
            case UInt8(ascii: "d"):                                                    // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of values") }
                let dict = PickleDict()
                for k in stride(from: 0, to: items.count, by: 2) { dict.set(items[k], items[k + 1]) }
                stack.append(.dict(dict))
            case UInt8(ascii: "s"):                                                    // SETITEM
                let value = try pop(), key = try pop()
                guard case .dict(let dict) = try top() else { throw fail("SETITEM on a \(topKind)") }
                dict.set(key, value)
            case UInt8(ascii: "u"):                                                    // SETITEMS
                let items = try popMark()
                guard case .dict(let dict) = try top() else { throw fail("SETITEMS on a \(topKind)") }
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
                for k in stride(from: 0, to: items.count, by: 2) { dict.set(items[k], items[k + 1]) }
            case 0x8F: stack.append(.list(PickleList()))                                // EMPTY_SET (kept as a list)
            case 0x90:                                                                  // ADDITEMS
                let values = try popMark()
                guard case .list(let set) = try top() else { throw fail("ADDITEMS on a \(topKind)") }
                set.items += values
            case 0x91: stack.append(.list(PickleList(try popMark())))                   // FROZENSET
            case UInt8(ascii: "g"): try get(Int(try line()))                            // GET
            case UInt8(ascii: "h"): try get(Int(try byte()))                            // BINGET
            case UInt8(ascii: "j"): try get(try u32())                                  // LONG_BINGET
            case UInt8(ascii: "p"): try put(Int(try line()))                            // PUT
            case UInt8(ascii: "q"): try put(Int(try byte()))                            // BINPUT
            case UInt8(ascii: "r"): try put(try u32())                                  // LONG_BINPUT
            case 0x94: try put(memo.count)                                              // MEMOIZE
            case UInt8(ascii: "c"):                                                     // GLOBAL
                let module = try line(), name = try line()
                stack.append(.global(try resolve(module: module, name: name)))
            case 0x93:                                                                  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let moduleText) = module, case .string(let nameText) = name else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(.global(try resolve(module: moduleText, name: nameText)))
            case UInt8(ascii: "R"):                                                     // REDUCE
                let arguments = try pop(), callable = try pop()
                stack.append(try call(callable, arguments))
            case 0x81:                                                                  // NEWOBJ
                let arguments = try pop(), callable = try pop()
                stack.append(try call(callable, arguments))
            case 0x92:                                                                  // NEWOBJ_EX
                _ = try pop()
                let arguments = try pop(), callable = try pop()
                stack.append(try call(callable, arguments))
            case UInt8(ascii: "b"):                                                     // BUILD
                // State set on an object (OrderedDict's `_metadata`, a parameter's hooks): plain data, dropped.
                _ = try pop()
                _ = try top()
            case UInt8(ascii: "Q"):                                                     // BINPERSID
                let id = try pop()
                guard let persistentLoad else { throw fail("a persistent id where none is expected") }
                stack.append(try persistentLoad(id))
            default:
                // INST, OBJ, PERSID (text), EXT1/2/4 and anything unknown.
                throw TorchCheckpointError.unsupportedOpcode(file: file, offset: opcodeStart, opcode: opcode)
            }
        }
    }

    private mutating func get(_ index: Int?) throws {
        guard let index, let value = memo[index] else { throw fail("memo key \(index.map(String.init) ?? "?") was never stored") }
        stack.append(value)
    }

    private mutating func put(_ index: Int?) throws {
        guard let index, index >= 0 else { throw fail("invalid memo key") }
        memo[index] = try top()
    }

    private func resolve(module: String, name: String) throws -> TorchGlobal {
        guard let global = TorchGlobal.named(module: module, name: name) else {
            throw TorchCheckpointError.forbiddenGlobal(file: file, global: "\(module).\(name)")
        }
        return global
    }

    // MARK: Calls to allowed globals

    private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let global) = callable else { throw fail("a call of a \(callable.kind), which is not callable") }
        guard case .tuple(let args) = arguments else { throw fail("\(global.name) called with a \(arguments.kind), not a tuple") }
        func int(_ value: PickleValue, _ what: String) throws -> Int {
            guard case .int(let number) = value, let result = Int(exactly: number) else {
                throw fail("\(global.name): \(what) is a \(value.kind), not an integer")
            }
            return result
        }
        func ints(_ value: PickleValue, _ what: String) throws -> [Int] {
            guard case .tuple(let items) = value else { throw fail("\(global.name): \(what) is a \(value.kind), not a tuple") }
            return try items.map { try int($0, what) }
        }
        switch global {
        case .orderedDict:
            let dict = PickleDict()
            if let first = args.first {
                guard case .list(let pairs) = first else { throw fail("OrderedDict of a \(first.kind)") }
                for pair in pairs.items {
                    guard case .tuple(let kv) = pair, kv.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case .rebuildTensor, .rebuildTensorV2:
            guard args.count >= 4 else { throw fail("\(global.name) with \(args.count) arguments") }
            guard case .storage(let storage) = args[0] else { throw fail("\(global.name) of a \(args[0].kind), not a storage") }
            return .tensor(try TorchTensor.make(storage: storage, offset: try int(args[1], "the offset"),
                                                shape: try ints(args[2], "the size"), strides: try ints(args[3], "the stride"),
                                                file: file))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = args.first, case .tensor = data else { throw fail("\(global.name) of something other than a tensor") }
            return data
        case .torchSize:
            guard args.count == 1, case .tuple = args[0] else { throw fail("torch.Size of something other than a tuple") }
            return args[0]
        case .torchDevice:
            return args.first ?? .none
        case .set, .frozenSet:
            if let first = args.first, case .list(let list) = first { return .list(PickleList(list.items)) }
            return .list(PickleList())
        case .encode:
            guard let first = args.first, case .string(let text) = first else { throw fail("_codecs.encode of a non-string") }
            // latin-1: each character is one byte.
            return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case .storageType, .dtype:
            throw fail("\(global.name) called; storages come from persistent ids")
        }
    }
}
