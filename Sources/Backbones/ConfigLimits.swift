/// Upper limits on backbone configurations, checked before any tensor is allocated: a spec or
/// config.json comes from elsewhere, and `in_channels: 65536` or `img_size: [2147483648, ...]` must be
/// refused with a message, not end in a failed 200 GB allocation or an arithmetic-overflow trap.
/// The limits lie far above any network this CPU engine trains.
public enum ConfigLimits {
    /// Channels in and out, per-axis input size, and every width.
    public static let maximumChannels = 1024
    public static let maximumSide = 1024
    public static let maximumWidth = 16384
    /// A rough upper estimate of the parameter count (2^30 Float32 = 4 GiB of weights alone).
    public static let maximumParameters = 1 << 30

    static func check(_ value: Int, _ name: String, in range: ClosedRange<Int>, _ fail: (String) -> BackboneError) throws {
        guard range.contains(value) else { throw fail("\(name) \(value) is outside \(range.lowerBound)...\(range.upperBound)") }
    }

    static func checkParameters(_ estimate: Double, _ fail: (String) -> BackboneError) throws {
        guard estimate <= Double(maximumParameters) else {
            throw fail("about \(String(format: "%.3g", estimate)) parameters, more than the \(maximumParameters) this engine accepts")
        }
    }
}

extension UNETRConfig {
    /// Sizes before arithmetic: every product below is of values already bounded.
    func checkLimits(_ fail: (String) -> BackboneError) throws {
        let L = ConfigLimits.self
        try L.check(inChannels, "in_channels", in: 1...L.maximumChannels, fail)
        try L.check(outChannels, "out_channels", in: 1...L.maximumChannels, fail)
        for size in imgSize { try L.check(size, "img_size", in: 1...L.maximumSide, fail) }
        try L.check(featureSize, "feature_size", in: 1...L.maximumWidth, fail)
        try L.check(hiddenSize, "hidden_size", in: 1...L.maximumWidth, fail)
        try L.check(mlpDim, "mlp_dim", in: 1...4 * L.maximumWidth, fail)
        try L.check(numHeads, "num_heads", in: 1...L.maximumWidth, fail)
        // ViT: patch embedding, position embedding, 12 blocks; encoders and decoders bounded by
        // six 3x3x3 convolutions of the widest width (generous).
        let (i, h, m, f) = (Double(inChannels), Double(hiddenSize), Double(mlpDim), Double(featureSize))
        let tokens = imgSize.map { Double($0) / 16 }.reduce(1, *)
        let vit = i * h * 4096 + tokens * h + 12 * (4 * h * h + 2 * h * m + 8 * h + m)
        let decoder = 27 * (h + 16 * f) * (h + 16 * f) * 6
        try L.checkParameters(vit + decoder, fail)
    }
}

extension SwinUNETRConfig {
    func checkLimits(_ fail: (String) -> BackboneError) throws {
        let L = ConfigLimits.self
        try L.check(inChannels, "in_channels", in: 1...L.maximumChannels, fail)
        try L.check(outChannels, "out_channels", in: 1...L.maximumChannels, fail)
        try L.check(featureSize, "feature_size", in: 1...L.maximumWidth / 16, fail)
        try L.check(windowSize, "window_size", in: 1...64, fail)
        for depth in depths { try L.check(depth, "depths", in: 1...256, fail) }
        for heads in numHeads { try L.check(heads, "num_heads", in: 1...L.maximumWidth, fail) }
        guard mlpRatio.isFinite, mlpRatio > 0, mlpRatio <= 64 else { throw fail("mlp_ratio \(mlpRatio) is outside (0, 64]") }
        let f = Double(featureSize), window = Double(2 * windowSize - 1)
        var estimate = Double(inChannels) * f * 8 + 27 * (16 * f) * (16 * f) * 8
        for (stage, (depth, heads)) in zip(depths, numHeads).enumerated() {
            let width = f * Double(1 << stage)
            estimate += Double(depth) * ((4 + 2 * mlpRatio) * width * width + window * window * window * Double(heads))
            estimate += 16 * width * width
        }
        try L.checkParameters(estimate, fail)
    }
}

extension BackboneConfig {
    /// MONAI's constructor checks and `ConfigLimits`, without building anything.
    public func validate() throws {
        switch self {
        case .unetr(let args): try args.validate()
        case .swinunetr(let args): try args.validate()
        }
    }
}
