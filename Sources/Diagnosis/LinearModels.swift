import Experiments
import Foundation

/// A fitted linear decision function `f(x) = w·x + b`; `f(x) > 0` predicts the positive class (label 1).
public struct LinearModel: Sendable, Equatable, Codable {
    public var coefficients: [Double]
    public var intercept: Double
    /// Solver iterations (Newton steps or SMO pair updates) and whether the tolerance was reached.
    public var iterations: Int
    public var converged: Bool

    public init(coefficients: [Double], intercept: Double, iterations: Int = 0, converged: Bool = true) {
        self.coefficients = coefficients
        self.intercept = intercept
        self.iterations = iterations
        self.converged = converged
    }

    public func decision(_ row: [Double]) -> Double {
        var sum = intercept
        for (w, x) in zip(coefficients, row) { sum += w * x }
        return sum
    }

    public func decisions(_ rows: [[Double]]) -> [Double] { rows.map(decision) }
}

/// The binary linear classifiers of the diagnosis experiments. Both take standardised features
/// (see `Standardizer`) and labels 0 (negative, e.g. CN) / 1 (positive, e.g. AD).
public enum LinearClassifier: Sendable, Equatable, Codable, CustomStringConvertible {
    /// L2-regularised logistic regression, scikit-learn's `LogisticRegression(C:, l1_ratio=0, solver="lbfgs")`
    /// objective: minimise `C·Σ log(1 + exp(−s·(w·x + b))) + ½‖w‖²`, s = ±1, intercept not penalised.
    case logisticRegression(c: Double)
    /// Linear soft-margin SVM, scikit-learn's `SVC(kernel="linear", C:)` (libsvm C-SVC) objective:
    /// minimise `½‖w‖² + C·Σ max(0, 1 − s·(w·x + b))`, intercept not penalised.
    /// (Not `LinearSVC`, which uses the squared hinge and penalises the intercept.)
    case linearSVM(c: Double)

    public func fit(_ x: [[Double]], _ y: [Int]) throws -> LinearModel {
        switch self {
        case .logisticRegression(let c): try LogisticRegression.fit(x, y, c: c)
        case .linearSVM(let c): try LinearSVM.fit(x, y, c: c)
        }
    }

    public var description: String {
        switch self {
        case .logisticRegression(let c): "logistic regression (L2, C=\(c))"
        case .linearSVM(let c): "linear SVM (hinge, C=\(c))"
        }
    }
}

/// Checks shared by the solvers; returns the feature count.
func validateTrainingData(_ x: [[Double]], _ y: [Int], c: Double) throws -> Int {
    guard !x.isEmpty, x.count == y.count else {
        throw DiagnosisError.invalidInput("\(x.count) feature rows for \(y.count) labels")
    }
    let d = x[0].count
    guard x.allSatisfy({ $0.count == d }) else { throw DiagnosisError.invalidInput("feature rows differ in length") }
    guard x.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
        throw DiagnosisError.invalidInput("a feature value is NaN or infinite (missing data must be imputed or dropped first)")
    }
    guard y.allSatisfy({ $0 == 0 || $0 == 1 }) else { throw DiagnosisError.invalidInput("labels must be 0 or 1") }
    guard y.contains(0), y.contains(1) else {
        throw DiagnosisError.singleClass("the training data hold only label \(y[0]); a classifier needs both classes")
    }
    guard c > 0, c.isFinite else { throw DiagnosisError.invalidInput("C must be positive and finite, not \(c)") }
    return d
}

// MARK: Logistic regression

/// L2-regularised logistic regression solved exactly by damped Newton–Raphson (IRLS) in Double.
///
/// Objective (scikit-learn's, up to a constant factor that does not move the minimum):
/// `f(w, b) = C·Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + ½‖w‖²`, `zᵢ = w·xᵢ + b`.
/// Gradient `C·Aᵀ(p − y) + (w, 0)`, Hessian `C·Aᵀ diag(p(1−p)) A + diag(1,…,1,0)` with `A = [X 1]`.
/// The objective is strictly convex, so Newton with a backtracking line search converges quadratically;
/// we stop when the Newton step is below 1e-12 (relative) — far tighter than sklearn's default tol.
public enum LogisticRegression {
    public static func fit(_ x: [[Double]], _ y: [Int], c: Double,
                           tolerance: Double = 1e-12, maxIterations: Int = 100) throws -> LinearModel {
        let d = try validateTrainingData(x, y, c: c)
        let p = d + 1
        var theta = [Double](repeating: 0, count: p)
        let targets = y.map(Double.init)

        func augmented(_ i: Int, _ j: Int) -> Double { j < d ? x[i][j] : 1 }
        func objective(_ theta: [Double]) -> Double {
            var loss = 0.0
            for i in x.indices {
                var z = theta[d]
                for j in 0..<d { z += theta[j] * x[i][j] }
                loss += log1pExp(z) - targets[i] * z
            }
            var penalty = 0.0
            for j in 0..<d { penalty += theta[j] * theta[j] }
            return c * loss + 0.5 * penalty
        }

        var value = objective(theta)
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            var gradient = [Double](repeating: 0, count: p)
            var hessian = [Double](repeating: 0, count: p * p)
            for i in x.indices {
                var z = theta[d]
                for j in 0..<d { z += theta[j] * x[i][j] }
                let probability = sigmoid(z)
                let residual = c * (probability - targets[i])
                let weight = c * probability * (1 - probability)
                for j in 0..<p {
                    let aj = augmented(i, j)
                    gradient[j] += residual * aj
                    let scaled = weight * aj
                    for k in 0...j { hessian[j * p + k] += scaled * augmented(i, k) }
                }
            }
            for j in 0..<d {
                gradient[j] += theta[j]
                hessian[j * p + j] += 1
            }
            for j in 0..<p { for k in 0..<j { hessian[k * p + j] = hessian[j * p + k] } }

            guard var step = choleskySolve(hessian, gradient, size: p) else {
                throw DiagnosisError.solverFailed("logistic regression: the Hessian is not positive definite")
            }
            for j in 0..<p { step[j] = -step[j] }
            let slope = zip(gradient, step).reduce(0) { $0 + $1.0 * $1.1 }  // < 0: a descent direction

            // Backtracking (Armijo) line search; Newton's full step is accepted near the optimum.
            var t = 1.0
            var candidate = theta
            var candidateValue = value
            for _ in 0..<60 {
                for j in 0..<p { candidate[j] = theta[j] + t * step[j] }
                candidateValue = objective(candidate)
                if candidateValue <= value + 1e-4 * t * slope { break }
                t *= 0.5
            }
            let stepSize = step.reduce(0) { max($0, abs($1)) } * t
            let scale = max(1, theta.reduce(0) { max($0, abs($1)) })
            if candidateValue <= value {
                theta = candidate
                value = candidateValue
            }
            if stepSize <= tolerance * scale || -slope <= 1e-24 * max(1, abs(value)) {
                converged = true
                break
            }
        }
        guard converged else {
            throw DiagnosisError.solverFailed("logistic regression did not converge in \(maxIterations) Newton steps")
        }
        return LinearModel(coefficients: Array(theta[0..<d]), intercept: theta[d], iterations: iterations, converged: true)
    }
}

@inline(__always) func sigmoid(_ z: Double) -> Double {
    z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
}

/// log(1 + eᶻ) without overflow.
@inline(__always) func log1pExp(_ z: Double) -> Double {
    z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
}

/// Solves `A x = b` for a symmetric positive-definite row-major `A`; nil if `A` is not positive definite.
func choleskySolve(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0...i {
            var sum = a[i * n + j]
            for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
            if i == j {
                guard sum > 0, sum.isFinite else { return nil }
                l[i * n + i] = sum.squareRoot()
            } else {
                l[i * n + j] = sum / l[j * n + j]
            }
        }
    }
    var z = b
    for i in 0..<n {
        for k in 0..<i { z[i] -= l[i * n + k] * z[k] }
        z[i] /= l[i * n + i]
    }
    for i in stride(from: n - 1, through: 0, by: -1) {
        for k in (i + 1)..<n { z[i] -= l[k * n + i] * z[k] }
        z[i] /= l[i * n + i]
    }
    return z
}

// MARK: Linear SVM

/// C-SVC with a linear kernel, solved in the dual by sequential minimal optimisation.
///
/// Dual: minimise `½ αᵀQα − Σα` subject to `0 ≤ αᵢ ≤ C`, `Σ sᵢαᵢ = 0`, with `Qᵢⱼ = sᵢsⱼ xᵢ·xⱼ`, s = ±1.
/// Each step picks the maximal-violating `i` and, among the candidates `j`, the one with the largest
/// second-order decrease (the working-set rule of Fan, Chen & Lin 2005, JMLR 6, as in libsvm), moves
/// the pair analytically, and updates the gradient. It stops when the KKT violation
/// `max_{I_up} −sG − min_{I_low} −sG` is below `tolerance`. Then `w = Σ αᵢsᵢxᵢ`, and `b` is the mean of
/// `−sᵢGᵢ` over free vectors (0 < αᵢ < C), or the midpoint of the feasible interval when there are none
/// (libsvm's rule, so the intercept matches sklearn's `SVC.intercept_`).
/// Memory: the n×n kernel matrix (8n² bytes), fine for the cohort sizes here (n ≲ 3000).
public enum LinearSVM {
    public static func fit(_ x: [[Double]], _ y: [Int], c: Double,
                           tolerance: Double = 1e-9, maxIterations: Int = 10_000_000) throws -> LinearModel {
        let d = try validateTrainingData(x, y, c: c)
        let n = x.count
        let s = y.map { $0 == 1 ? 1.0 : -1.0 }
        var kernel = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var dot = 0.0
                for k in 0..<d { dot += x[i][k] * x[j][k] }
                kernel[i * n + j] = dot
                kernel[j * n + i] = dot
            }
        }
        var alpha = [Double](repeating: 0, count: n)
        var gradient = [Double](repeating: -1, count: n)  // G = Qα − 1
        let tau = 1e-12

        @inline(__always) func inUp(_ t: Int) -> Bool { s[t] > 0 ? alpha[t] < c : alpha[t] > 0 }
        @inline(__always) func inLow(_ t: Int) -> Bool { s[t] > 0 ? alpha[t] > 0 : alpha[t] < c }

        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            // i: the maximal violator in I_up.
            var i = -1
            var gMax = -Double.infinity
            for t in 0..<n where inUp(t) {
                let v = -s[t] * gradient[t]
                if v > gMax { gMax = v; i = t }
            }
            // j: second-order choice in I_low; gMax2 = max over I_low of sG, for the stopping rule.
            var j = -1
            var gMax2 = -Double.infinity
            var best = Double.infinity
            if i >= 0 {
                for t in 0..<n where inLow(t) {
                    let sg = s[t] * gradient[t]
                    if sg > gMax2 { gMax2 = sg }
                    let b = gMax + sg
                    if b > 0 {
                        var a = kernel[i * n + i] + kernel[t * n + t] - 2 * kernel[i * n + t]
                        if a <= 0 { a = tau }
                        let decrease = -(b * b) / a
                        if decrease < best { best = decrease; j = t }
                    }
                }
            }
            if i < 0 || j < 0 || gMax + gMax2 < tolerance {
                converged = true
                break
            }
            iterations += 1

            // Move αᵢ by +sᵢt and αⱼ by −sⱼt (keeps Σ sα), t ≥ 0 clipped to the box.
            var a = kernel[i * n + i] + kernel[j * n + j] - 2 * kernel[i * n + j]
            if a <= 0 { a = tau }
            let b = gMax + s[j] * gradient[j]
            let limitI = s[i] > 0 ? c - alpha[i] : alpha[i]
            let limitJ = s[j] > 0 ? alpha[j] : c - alpha[j]
            let t = min(b / a, limitI, limitJ)
            alpha[i] += s[i] * t
            alpha[j] -= s[j] * t
            if t == limitI { alpha[i] = s[i] > 0 ? c : 0 }
            if t == limitJ { alpha[j] = s[j] > 0 ? 0 : c }
            alpha[i] = min(max(alpha[i], 0), c)
            alpha[j] = min(max(alpha[j], 0), c)
            for k in 0..<n {
                gradient[k] += s[k] * t * (kernel[k * n + i] - kernel[k * n + j])
            }
        }

        var w = [Double](repeating: 0, count: d)
        for i in 0..<n where alpha[i] > 0 {
            for k in 0..<d { w[k] += alpha[i] * s[i] * x[i][k] }
        }
        // ρ from the KKT conditions; decision = w·x − ρ.
        var upper = Double.infinity, lower = -Double.infinity
        var freeSum = 0.0, freeCount = 0
        for t in 0..<n {
            let sg = s[t] * gradient[t]
            if alpha[t] >= c {
                if s[t] < 0 { upper = min(upper, sg) } else { lower = max(lower, sg) }
            } else if alpha[t] <= 0 {
                if s[t] > 0 { upper = min(upper, sg) } else { lower = max(lower, sg) }
            } else {
                freeSum += sg
                freeCount += 1
            }
        }
        let rho = freeCount > 0 ? freeSum / Double(freeCount) : (upper + lower) / 2
        guard converged else {
            throw DiagnosisError.solverFailed("linear SVM did not converge in \(maxIterations) SMO steps")
        }
        return LinearModel(coefficients: w, intercept: -rho, iterations: iterations, converged: true)
    }
}
