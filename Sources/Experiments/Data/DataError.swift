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
    /// An entry inside the root that is (or passes through) a symbolic link to a file outside it.
    case linkOutsideRoot(dataset: String, entry: String, source: String, target: String)
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
    /// A label value whose class (after `label_map`, when there is one) the backbone's `out_channels`
    /// cannot represent; `file` is the case's label file (or `label_map`, or the generator).
    case labelOutOfRange(dataset: String, file: String, value: Int, mappedClass: Int?, outChannels: Int, backbone: String)

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
        case let .linkOutsideRoot(dataset, entry, source, target):
            return "data set '\(dataset)': entry '\(entry)' in \(source) is a symbolic link to \(target), outside the data "
                + "root; refused without reading it (copy the file under the root, or set allow_outside_root: true if you "
                + "trust this data)"
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
        case let .labelOutOfRange(dataset, file, value, mappedClass, outChannels, backbone):
            let what = mappedClass.map { "label value \(value) (class \($0) after label_map)" } ?? "label value \(value)"
            let fix = (mappedClass ?? value) < 0
                ? "labels must be 0 (background) or more; fix the file or map the value with label_map"
                : "add a label_map (e.g. {\(value): 1}) or set out_channels to at least \((mappedClass ?? value) + 1)"
            return "data set '\(dataset)', \(file): \(what) cannot be represented by out_channels \(outChannels) "
                + "of backbone '\(backbone)' (classes 0 to \(outChannels - 1)); \(fix)"
        }
    }
}
