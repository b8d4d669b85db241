import CBLAS

/// Which BLAS kernels this process runs. OpenBLAS picks its sgemm kernel for the CPU at load time
/// (Haswell on AVX2 and Zen hosts, SkylakeX on AVX-512 Intel hosts); the kernels sum a product in
/// different orders, so the same training differs in the last bits between them, and short training on
/// few cases can amplify that. Our convolution tiles give the same bits on AVX2 and AVX-512
/// (`usesAVX512`), so this is the one host-dependent input of a result. `OPENBLAS_CORETYPE=<core>`
/// makes OpenBLAS use another core's kernels, to reproduce a record made on another CPU bit for bit.
extension Kernels {
    /// "OpenBLAS 0.3.21 SkylakeX": the library, its version and the kernel core chosen for this CPU.
    public static let blasDescription: String = {
        let configuration = String(cString: openblas_get_config()).split(separator: " ").prefix(2)
        return (configuration + [Substring(String(cString: openblas_get_corename()))]).joined(separator: " ")
    }()
}
