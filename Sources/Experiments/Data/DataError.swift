/// What can go wrong finding, reading, preparing and splitting a data set. Each case names the data set
/// and the file, entry or case involved, and `description` is one line saying what is wrong and what to do.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The data set's `root` folder does not exist.
    case missingRoot(dataset: String, path: String)
    /// A file the layout needs (dataset.json, a list file) is missing.
    case missingIndex(dataset: String, path: String, what: String)
    /// dataset.json or a list file cannot be parsed.
    case badIndex(dataset: String, path: String, reason: String)
    /// An entry points outside the data root (`../`, an absolute path) and the spec does not allow it.
    case outsideRoot(dataset: String, entry: String, source: String)
    /// Two files or list lines give the same case id.
    case duplicateCase(dataset: String, id: String, first: String, second: String)
    /// The spec asks for something this data set cannot give (checked when the data set is opened).
    case invalidSpec(dataset: String, field: String, reason: String)
    /// A case could not be read or prepared (bad file, grid mismatch, NaN voxels, ...).
    case caseFailed(dataset: String, caseID: String, reason: String)
    /// A case id (in a list file, a request) that the data set does not hold.
    case unknownCase(dataset: String, id: String, source: String)
    /// A training budget larger than the training pool.
    case budgetTooLarge(dataset: String, budget: Int, pool: Int)
    /// Validation and test sets leave no case to train on.
    case splitTooLarge(dataset: String, validation: Int, test: Int, usable: Int)
    /// No usable case at all.
    case noCases(dataset: String, hint: String)

    public var description: String {
        switch self {
        case .missingRoot(let dataset, let path):
            return "data set '\(dataset)': root folder \(path) does not exist; check `root` in the spec "
                + "(and HIPPOPEFT_DATA if the path uses it)"
        case .missingIndex(let dataset, let path, let what):
            return "data set '\(dataset)': \(what) \(path) not found; check `root` and the layout"
        case .badIndex(let dataset, let path, let reason):
            return "data set '\(dataset)': cannot read \(path) (\(reason)); fix or regenerate the file"
        case .outsideRoot(let dataset, let entry, let source):
            return "data set '\(dataset)': entry '\(entry)' in \(source) points outside the data root; refused "
                + "(move the file under the root, or set allow_outside_root: true if you trust this data)"
        case .duplicateCase(let dataset, let id, let first, let second):
            return "data set '\(dataset)': case id '\(id)' is given twice (\(first) and \(second)); "
                + "remove one or rename the files"
        case .invalidSpec(let dataset, let field, let reason):
            return "data set '\(dataset)': \(field): \(reason)"
        case .caseFailed(let dataset, let caseID, let reason):
            return "data set '\(dataset)', case '\(caseID)': \(reason)"
        case .unknownCase(let dataset, let id, let source):
            return "data set '\(dataset)': case '\(id)' named in \(source) is not among its usable cases; "
                + "check the spelling (run `harness data check` to list the cases)"
        case .budgetTooLarge(let dataset, let budget, let pool):
            return "data set '\(dataset)': training budget \(budget) is larger than the training pool of \(pool) "
                + "case(s); use a budget of at most \(pool), `all`, or smaller validation/test sets"
        case .splitTooLarge(let dataset, let validation, let test, let usable):
            return "data set '\(dataset)': \(validation) validation + \(test) test case(s) leave nothing to train "
                + "on out of \(usable) usable case(s); lower split.validation or split.test"
        case .noCases(let dataset, let hint):
            return "data set '\(dataset)': no usable case found; \(hint)"
        }
    }
}
