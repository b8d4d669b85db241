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
    }

    /// MONAI 1.6's HyenaND options: they only matter with `use_hyena`, which is not supported, so
    /// they are accepted (a full MONAI argument list loads) and ignored.
    static let hyenaOptions = ["hyena_kernel_size", "hyena_kernel_mlp_dim", "hyena_kernel_layers",
                               "hyena_mask_max_attenuation", "hyena_fft_padding", "hyena_grid_type",
                               "hyena_use_chunked_fft", "hyena_use_fft_short_conv", "hyena_omega_0",
                               "hyena_l_cache", "hyena_short_conv_fft_chunks"]

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(allowed: CodingKeys.allCases.map(\.rawValue) + Self.hyenaOptions)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannels = try c.decode(Int.self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        featureSize = try c.decodeIfPresent(Int.self, forKey: .featureSize) ?? featureSize
        depths = try c.decodeIfPresent([Int].self, forKey: .depths) ?? depths
        numHeads = try c.decodeIfPresent([Int].self, forKey: .numHeads) ?? numHeads
        windowSize = try c.decodeIfPresent(SpatialSize.self, forKey: .windowSize).map { sizes in
            guard Set(sizes.values).count == 1 else {
                throw DecodingError.dataCorruptedError(forKey: .windowSize, in: c, debugDescription: "only cubic windows are supported")
            }
            return sizes.values[0]
        } ?? windowSize
        normName = try c.decodeIfPresent(NormKind.self, forKey: .normName) ?? normName
        dropRate = try c.decodeIfPresent(Double.self, forKey: .dropRate) ?? dropRate
        attnDropRate = try c.decodeIfPresent(Double.self, forKey: .attnDropRate) ?? attnDropRate
        dropoutPathRate = try c.decodeIfPresent(Double.self, forKey: .dropoutPathRate) ?? dropoutPathRate
        normalize = try c.decodeIfPresent(Bool.self, forKey: .normalize) ?? normalize
        useV2 = try c.decodeIfPresent(Bool.self, forKey: .useV2) ?? useV2
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? qkvBias
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? mlpRatio
        if let dims = try c.decodeIfPresent(Int.self, forKey: .spatialDims), dims != 3 {
            throw DecodingError.dataCorruptedError(forKey: .spatialDims, in: c, debugDescription: "only spatial_dims 3 is supported")
        }
        if let patch = try c.decodeIfPresent(SpatialSize.self, forKey: .patchSize), patch.values != [2, 2, 2] {
            throw DecodingError.dataCorruptedError(forKey: .patchSize, in: c, debugDescription: "only patch_size 2 is supported")
        }
        downsample = try c.decodeIfPresent(String.self, forKey: .downsample) ?? downsample
        guard Self.downsampleModes.contains(downsample) else {
            throw DecodingError.dataCorruptedError(forKey: .downsample, in: c,
                                                   debugDescription: "downsample '\(downsample)' (use merging or mergingv2)")
        }
        patchNorm = try c.decodeIfPresent(Bool.self, forKey: .patchNorm) ?? patchNorm
        if try c.decodeIfPresent(Bool.self, forKey: .useHyena) == true {
            throw DecodingError.dataCorruptedError(forKey: .useHyena, in: c, debugDescription: "HyenaND stages are not supported")
        }
        if let stages = try c.decodeIfPresent([Bool].self, forKey: .hyenaStages), stages.contains(true) {
            throw DecodingError.dataCorruptedError(forKey: .hyenaStages, in: c, debugDescription: "HyenaND stages are not supported")
        }
        // Flash attention is an inference-only kernel choice in MONAI; the result is the same.
        _ = try c.decodeIfPresent(Bool.self, forKey: .useFlashAttention)
        _ = try c.decodeIfPresent(Bool.self, forKey: .useCheckpoint)
        _ = try c.decodeIfPresent(SpatialSize.self, forKey: .imgSize)  // deprecated in MONAI; sizes come from the input
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(featureSize, forKey: .featureSize)
        try c.encode(depths, forKey: .depths)
        try c.encode(numHeads, forKey: .numHeads)
        try c.encode(windowSize, forKey: .windowSize)
        try c.encode(normName, forKey: .normName)
        try c.encode(dropRate, forKey: .dropRate)
        try c.encode(attnDropRate, forKey: .attnDropRate)
        try c.encode(dropoutPathRate, forKey: .dropoutPathRate)
        try c.encode(normalize, forKey: .normalize)
        try c.encode(useV2, forKey: .useV2)
        try c.encode(qkvBias, forKey: .qkvBias)
        try c.encode(mlpRatio, forKey: .mlpRatio)
        try c.encode(patchNorm, forKey: .patchNorm)
        try c.encode(downsample, forKey: .downsample)
    }

    static let downsampleModes = ["merging", "mergingv2"]

    func validate() throws {
        func fail(_ message: String) -> BackboneError { .invalidConfiguration("SwinUNETR: \(message)") }
        guard inChannels > 0, outChannels > 0 else { throw fail("in_channels and out_channels must be positive") }
        guard featureSize > 0, featureSize % 12 == 0 else { throw fail("feature_size should be divisible by 12, got \(featureSize)") }
        guard depths.count == 4, numHeads.count == 4 else { throw fail("depths and num_heads need 4 stages") }
        guard depths.allSatisfy({ $0 > 0 }), numHeads.allSatisfy({ $0 > 0 }) else { throw fail("depths and num_heads must be positive") }
        for (stage, heads) in numHeads.enumerated() where (featureSize << stage) % heads != 0 {
            throw fail("stage \(stage + 1) width \(featureSize << stage) is not divisible by its \(heads) heads")
        }
        guard windowSize > 0 else { throw fail("window_size must be positive") }
        guard mlpRatio > 0 else { throw fail("mlp_ratio must be positive") }
        guard Self.downsampleModes.contains(downsample) else { throw fail("downsample '\(downsample)' (use merging or mergingv2)") }
        for (name, rate) in [("drop_rate", dropRate), ("attn_drop_rate", attnDropRate), ("dropout_path_rate", dropoutPathRate)]
        where !(0...1).contains(rate) {
            throw fail("\(name) should be between 0 and 1")
        }
    }
}
