import ConfigDecoding

/// MONAI's `SwinUNETR(...)` constructor arguments, with MONAI's names and defaults.
public struct SwinUNETRConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var featureSize = 24
    public var depths = [2, 2, 2, 2]
    public var numHeads = [3, 6, 12, 24]
    public var windowSize = 7
    public var normName = NormKind.instance(affine: false)
    public var dropRate = 0.0
    public var attnDropRate = 0.0
    public var dropoutPathRate = 0.0
    public var normalize = true
    public var useV2 = false
    public var qkvBias = true
    public var mlpRatio = 4.0
    /// Layer norm on the patch embedding's tokens (MONAI's `patch_norm`, off by default).
    public var patchNorm = false
    /// "merging" (MONAI's v0.9 `PatchMerging`, the default) or "mergingv2" (`PatchMergingV2`).
    public var downsample = "merging"

    public init(inChannels: Int, outChannels: Int) {
        (self.inChannels, self.outChannels) = (inChannels, outChannels)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inChannels = "in_channels", outChannels = "out_channels", featureSize = "feature_size"
        case depths, numHeads = "num_heads", windowSize = "window_size", normName = "norm_name"
        case dropRate = "drop_rate", attnDropRate = "attn_drop_rate", dropoutPathRate = "dropout_path_rate"
        case normalize, useV2 = "use_v2", qkvBias = "qkv_bias", mlpRatio = "mlp_ratio"
        case spatialDims = "spatial_dims", useCheckpoint = "use_checkpoint", imgSize = "img_size"
        case patchSize = "patch_size", downsample, patchNorm = "patch_norm"
        case useHyena = "use_hyena", hyenaStages = "hyena_stages", useFlashAttention = "use_flash_attention"
        // MONAI 1.6's HyenaND options only matter with `use_hyena`, which is not supported: accepted
        // (so a full MONAI argument list loads) and ignored.
        case hyenaKernelSize = "hyena_kernel_size", hyenaKernelMLPDim = "hyena_kernel_mlp_dim"
        case hyenaKernelLayers = "hyena_kernel_layers", hyenaMaskMaxAttenuation = "hyena_mask_max_attenuation"
        case hyenaFFTPadding = "hyena_fft_padding", hyenaGridType = "hyena_grid_type"
        case hyenaUseChunkedFFT = "hyena_use_chunked_fft", hyenaUseFFTShortConv = "hyena_use_fft_short_conv"
        case hyenaOmega0 = "hyena_omega_0", hyenaLCache = "hyena_l_cache", hyenaShortConvFFTChunks = "hyena_short_conv_fft_chunks"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        inChannels = try read.required(.inChannels)
        outChannels = try read.required(.outChannels)
        try read(into: &self, (.featureSize, \.featureSize), (.depths, \.depths), (.numHeads, \.numHeads))
        let window = try read(.windowSize, SpatialSize([windowSize, windowSize, windowSize])).values
        try read.require(Set(window).count == 1, .windowSize, "only cubic windows are supported")
        windowSize = window[0]
        try read(into: &self, (.normName, \.normName), (.dropRate, \.dropRate), (.attnDropRate, \.attnDropRate),
                              (.dropoutPathRate, \.dropoutPathRate), (.normalize, \.normalize), (.useV2, \.useV2),
                              (.qkvBias, \.qkvBias), (.mlpRatio, \.mlpRatio), (.patchNorm, \.patchNorm),
                              (.downsample, \.downsample))
        try read.require(Self.downsampleModes.contains(downsample), .downsample,
                         "downsample '\(downsample)' (use merging or mergingv2)")
        try read.require(try read(.spatialDims, 3) == 3, .spatialDims, "only spatial_dims 3 is supported")
        try read.require(try read(.patchSize, SpatialSize([2, 2, 2])).values == [2, 2, 2], .patchSize, "only patch_size 2 is supported")
        try read.require(try read(.useHyena, false) == false, .useHyena, "HyenaND stages are not supported")
        try read.require(!(try read(.hyenaStages, [Bool]())).contains(true), .hyenaStages, "HyenaND stages are not supported")
        // Flash attention is an inference-only kernel choice in MONAI; the result is the same.
        _ = try read(.useFlashAttention, false)
        _ = try read(.useCheckpoint, false)
        _ = try read(.imgSize, SpatialSize([0, 0, 0]))  // deprecated in MONAI; sizes come from the input
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self, (.inChannels, \.inChannels), (.outChannels, \.outChannels), (.featureSize, \.featureSize),
                           (.depths, \.depths), (.numHeads, \.numHeads), (.windowSize, \.windowSize),
                           (.normName, \.normName), (.dropRate, \.dropRate), (.attnDropRate, \.attnDropRate),
                           (.dropoutPathRate, \.dropoutPathRate), (.normalize, \.normalize), (.useV2, \.useV2),
                           (.qkvBias, \.qkvBias), (.mlpRatio, \.mlpRatio), (.patchNorm, \.patchNorm),
                           (.downsample, \.downsample))
    }

    static let downsampleModes = ["merging", "mergingv2"]

    func validate() throws {
        func fail(_ message: String) -> BackboneError { .invalidConfiguration("SwinUNETR: \(message)") }
        guard inChannels > 0, outChannels > 0 else { throw fail("in_channels and out_channels must be positive") }
        guard featureSize > 0, featureSize % 12 == 0 else { throw fail("feature_size should be divisible by 12, got \(featureSize)") }
        guard depths.count == 4, numHeads.count == 4 else { throw fail("depths and num_heads need 4 stages") }
        guard depths.allSatisfy({ $0 > 0 }), numHeads.allSatisfy({ $0 > 0 }) else { throw fail("depths and num_heads must be positive") }
        guard windowSize > 0 else { throw fail("window_size must be positive") }
        guard mlpRatio > 0 else { throw fail("mlp_ratio must be positive") }
        try checkLimits(fail)
        for (stage, heads) in numHeads.enumerated() where (featureSize << stage) % heads != 0 {
            throw fail("stage \(stage + 1) width \(featureSize << stage) is not divisible by its \(heads) heads")
        }
        guard Self.downsampleModes.contains(downsample) else { throw fail("downsample '\(downsample)' (use merging or mergingv2)") }
        for (name, rate) in [("drop_rate", dropRate), ("attn_drop_rate", attnDropRate), ("dropout_path_rate", dropoutPathRate)]
        where !(0...1).contains(rate) {
            throw fail("\(name) should be between 0 and 1")
        }
    }
}

extension SwinUNETRConfig {
    /// The input size when a spec names none.
    public static let defaultInputSize = [64, 64, 64]

    /// The input size (training crop and inference window, NIfTI order): any size whose axes survive
    /// the five 2× downsamplings (multiples of 32); `requested` or the default.
    public func inputSize(requested: [Int]?) throws -> [Int] {
        let size = requested ?? Self.defaultInputSize
        guard size.allSatisfy({ $0 % 32 == 0 }) else {
            throw BackboneError.invalidConfiguration("SwinUNETR needs patch sizes divisible by 32; got \(size)")
        }
        return size
    }
}
