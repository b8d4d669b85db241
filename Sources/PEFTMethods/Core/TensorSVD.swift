import Foundation
import Tensors

/// Truncated t-SVD factors of a third-order tensor 𝒲 (n1 × n2 × n3, stored as frontal slices
/// [n3, n1, n2]) in the spatial domain, real: 𝒲_p = 𝒰 * 𝒮 * 𝒱ᵀ with `*` the t-product.
/// Layouts: u [r, n3, n1], s [r, n3] (the diagonals of the f-diagonal 𝒮), v [r, n3, n2].
package struct TSVDFactors {
    package let u: Tensor, s: Tensor, v: Tensor
}

/// The top-`rank` singular triplets of every Fourier slice of `w` [n3, n1, n2] (DFT along mode 3),
/// brought back to the spatial domain in real arithmetic: slices k and n3 − k are conjugate, so only
/// k ≤ n3/2 are decomposed and the others taken as conjugates; the self-conjugate slices (k = 0 and
/// k = n3/2) are real and use a real SVD, so every spatial factor is real.
package func truncatedTensorSVD(_ w: Tensor, rank r: Int) throws -> TSVDFactors {
    let n3 = w.shape[0], n1 = w.shape[1], n2 = w.shape[2]
    let half = n3 / 2
    let frequencies = half + 1
    // Forward DFT of the slices: Re_k = Σ_j W_j cos(2πjk/n3), Im_k = −Σ_j W_j sin(2πjk/n3), as GEMMs.
    let cosines = Tensor(uninitialized: [frequencies, n3]), sines = Tensor(uninitialized: [frequencies, n3])
    for k in 0..<frequencies {
        for j in 0..<n3 {
            let angle = 2 * Double.pi * Double(j * k % n3) / Double(n3)
            cosines.pointer[k * n3 + j] = Float(cos(angle))
            sines.pointer[k * n3 + j] = Float(-sin(angle))
        }
    }
    let flat = w.reshaped([n3, n1 * n2])
    let real = withoutGrad { matmul(cosines, flat) }, imaginary = withoutGrad { matmul(sines, flat) }

    // Truncated factors per frequency: Û_k (n1×r), Ŝ_k (r), V̂_k (n2×r), as real and imaginary parts.
    var uHat: [(re: [Float], im: [Float])] = [], sHat: [[Float]] = [], vHat: [(re: [Float], im: [Float])] = []
    for k in 0..<frequencies {
        let re = Array(UnsafeBufferPointer(start: real.pointer + k * n1 * n2, count: n1 * n2))
        if k == 0 || (n3 % 2 == 0 && k == half) {
            let svd = try singularValueDecomposition(Tensor(re, shape: [n1, n2]))
            let m = min(n1, n2)
            uHat.append(((0..<(n1 * r)).map { svd.u.pointer[($0 / r) * m + $0 % r] }, Array(repeating: 0, count: n1 * r)))
            sHat.append(Array(svd.s.prefix(r)))
            vHat.append(((0..<(n2 * r)).map { svd.vt.pointer[($0 % r) * n2 + $0 / r] }, Array(repeating: 0, count: n2 * r)))
        } else {
            let im = Array(UnsafeBufferPointer(start: imaginary.pointer + k * n1 * n2, count: n1 * n2))
            let svd = try complexSingularValueDecomposition(real: re, imaginary: im, rows: n1, columns: n2)
            let m = min(n1, n2)
            uHat.append(((0..<(n1 * r)).map { svd.uReal[($0 / r) * m + $0 % r] },
                         (0..<(n1 * r)).map { svd.uImaginary[($0 / r) * m + $0 % r] }))
            sHat.append(Array(svd.s.prefix(r)))
            // V̂ = (V̂ᴴ)ᴴ: column t of V̂ is the conjugate of row t of V̂ᴴ.
            vHat.append(((0..<(n2 * r)).map { svd.vhReal[($0 % r) * n2 + $0 / r] },
                         (0..<(n2 * r)).map { -svd.vhImaginary[($0 % r) * n2 + $0 / r] }))
        }
    }

    // Inverse DFT of a conjugate-symmetric sequence, keeping the real part:
    // x_j = (1/n3)[X_0 + (−1)^j X_{n3/2} + 2 Σ_{0<k<n3/2} (Re X_k cos θ − Im X_k sin θ)], θ = 2πjk/n3.
    func inverse(_ spectrum: [(re: [Float], im: [Float])], count: Int, row: (_ j: Int, _ values: [Float]) -> Void) {
        for j in 0..<n3 {
            var values = [Double](repeating: 0, count: count)
            for k in 0..<frequencies {
                let selfConjugate = k == 0 || (n3 % 2 == 0 && k == half)
                let weight = selfConjugate ? 1.0 : 2.0
                let angle = 2 * Double.pi * Double(j * k % n3) / Double(n3)
                let (c, s) = (cos(angle), sin(angle))
                for i in 0..<count {
                    values[i] += weight * (Double(spectrum[k].re[i]) * c - Double(spectrum[k].im[i]) * s)
                }
            }
            row(j, values.map { Float($0 / Double(n3)) })
        }
    }
    let u = Tensor(uninitialized: [r, n3, n1]), v = Tensor(uninitialized: [r, n3, n2]), s = Tensor(uninitialized: [r, n3])
    inverse(uHat, count: n1 * r) { j, values in
        for i in 0..<n1 { for t in 0..<r { u.pointer[(t * n3 + j) * n1 + i] = values[i * r + t] } }
    }
    inverse(vHat, count: n2 * r) { j, values in
        for i in 0..<n2 { for t in 0..<r { v.pointer[(t * n3 + j) * n2 + i] = values[i * r + t] } }
    }
    inverse(sHat.map { ($0, [Float](repeating: 0, count: r)) }, count: r) { j, values in
        for t in 0..<r { s.pointer[t * n3 + j] = values[t] }
    }
    return TSVDFactors(u: u, s: s, v: v)
}

/// 𝒰 * 𝒮 * 𝒱ᵀ as frontal slices [n3, n1, n2], differentiable in u, s and v: two circular
/// convolutions along mode 3 written as gathers and batched matrix products.
package func tProduct(u: Tensor, s: Tensor, v: Tensor) -> Tensor {
    let r = u.shape[0], n3 = u.shape[1], n1 = u.shape[2], n2 = v.shape[2]
    // 𝒫 = 𝒰 * 𝒮: P[t, k] = Σ_j S[t, (k − j) mod n3] · U[t, j], a circulant matrix per rank index.
    var circulant: [Int] = []
    circulant.reserveCapacity(r * n3 * n3)
    for t in 0..<r { for k in 0..<n3 { for j in 0..<n3 { circulant.append(t * n3 + ((k - j) % n3 + n3) % n3) } } }
    let p = matmul(gatherRows(s.reshaped([r * n3, 1]), indices: circulant).reshaped([r, n3, n3]), u)
    // (𝒫 * 𝒱ᵀ)_k = Σ_{t, j} P[t, j] ⊗ V[t, (j − k) mod n3].
    var shifted: [Int] = []
    shifted.reserveCapacity(n3 * r * n3)
    for k in 0..<n3 { for t in 0..<r { for j in 0..<n3 { shifted.append(t * n3 + ((j - k) % n3 + n3) % n3) } } }
    let stack = gatherRows(v.reshaped([r * n3, n2]), indices: shifted).reshaped([n3, r * n3, n2])
    return matmul(stack, p.reshaped([r * n3, n1]), transposeA: true).transposed(1, 2)
}
