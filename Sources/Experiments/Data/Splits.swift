import Tensors

/// A training-set size of a sweep: a number of cases (`5`) or the whole training pool (`"all"`).
public enum Budget: Codable, Sendable, Hashable, CustomStringConvertible {
    case count(Int)
    case all

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int.self) {
            guard n > 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a budget must be at least 1 case, got \(n)")
            }
            self = .count(n)
            return
        }
        if let text = try? container.decode(String.self) {
            if text.lowercased() == "all" {
                self = .all
                return
            }
            if let n = Int(text), n > 0 {
                self = .count(n)
                return
            }
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "a budget is a number of cases (5) or \"all\"")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let n): try container.encode(n)
        case .all: try container.encode("all")
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return String(n)
        case .all: return "all"
        }
    }
}

/// A data set's fixed validation and test sets and its training pool in budget order.
///
/// The pool order is a seeded ranking of case ids: budget n is its first n cases, so 5 ⊂ 10 ⊂ 20 ⊂ 40 ⊂
/// all. It depends only on the data set (its usable ids, list files and `split.seed`), never on the
/// method or the run seed, so every method trains on the same cases. Each id's rank is drawn from its
/// own stream (`RandomGenerator(seed: split.seed, stream: "split:<id>")`), so adding or removing a
/// case does not reorder the others.
public struct DatasetSplits: Codable, Sendable, Equatable {
    public var dataset: String
    public var seed: UInt64
    public var validation: [String]
    public var test: [String]
    /// Every training case, in budget order.
    public var trainingPool: [String]

    /// Splits the scan's usable cases: list files where given, else seeded counts from `split`.
    public init(scan: DatasetScan, split: SplitSpec) throws {
        dataset = scan.dataset
        seed = split.seed
        let ids = scan.caseIDs
        let total = ids.count
        func ranked(_ ids: [String], stream: String) -> [String] {
            ids.map { id -> (UInt64, String) in
                var rng = RandomGenerator(seed: split.seed, stream: "\(stream):\(id)")
                return (rng.next(), id)
            }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map(\.1)
        }
        func draw(_ size: SplitSize, from candidates: [String], name: String) throws -> [String] {
            let n = size.cases(of: total)
            guard n <= candidates.count else {
                throw DataError.invalidSpec(
                    dataset: scan.dataset, field: "split.\(name)",
                    reason: "\(n) case(s) requested, only \(candidates.count) available of \(total) usable")
            }
            return Array(candidates.prefix(n))
        }
        let listed = scan.listed
        let listedTrain = Set(listed.train ?? [])
        let listedValidation = Set(listed.validation ?? [])
        let order = ranked(ids, stream: "split")
        // A split with a list file takes exactly its list; the test set is otherwise drawn from the
        // cases no list claims, and the validation set from the training list (or all cases) minus test.
        test = try listed.test ?? draw(
            split.test, from: order.filter { !listedTrain.contains($0) && !listedValidation.contains($0) }, name: "test")
        let testSet = Set(test)
        let trainSource = listed.train.map { Set($0) }
        validation = try listed.validation ?? draw(
            split.validation, from: order.filter { !testSet.contains($0) && (trainSource?.contains($0) ?? true) },
            name: "validation")
        let validationSet = Set(validation)
        let pool = (listed.train ?? ids).filter { !testSet.contains($0) && !validationSet.contains($0) }
        trainingPool = ranked(pool, stream: "budget")
        guard !trainingPool.isEmpty else {
            throw DataError.splitTooLarge(dataset: scan.dataset, validation: validation.count, test: test.count, usable: total)
        }
    }

    /// The case ids of a budget: the first n of the training pool (the whole pool for `.all`). Throws
    /// `budgetTooLarge` naming both numbers when n exceeds the pool.
    public func training(_ budget: Budget) throws -> [String] {
        switch budget {
        case .all:
            return trainingPool
        case .count(let n):
            guard n <= trainingPool.count else {
                throw DataError.budgetTooLarge(dataset: dataset, budget: n, pool: trainingPool.count)
            }
            return Array(trainingPool.prefix(n))
        }
    }
}
