import ConfigDecoding

/// MONAI's `UNETR(...)` constructor arguments, with MONAI's names and defaults.
public struct UNETRConfig: Codable, Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var imgSize: [Int]
    public var featureSize = 16
    public var hiddenSize = 768
    public var mlpDim = 3072
    public var numHeads = 12
    public var projType = "conv"
    public var normName = NormKind.instance(affine: false)
    public var convBlock = true
    public var resBlock = true
    public var dropoutRate = 0.0
    public var qkvBias = false

    public init(inChannels: Int, outChannels: Int, imgSize: [Int]) {
        (self.inChannels, self.outChannels, self.imgSize) = (inChannels, outChannels, imgSize)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inChannels = "in_channels", outChannels = "out_channels", imgSize = "img_size"
        case featureSize = "feature_size", hiddenSize = "hidden_size", mlpDim = "mlp_dim", numHeads = "num_heads"
        case projType = "proj_type", normName = "norm_name", convBlock = "conv_block", resBlock = "res_block"
        case dropoutRate = "dropout_rate", qkvBias = "qkv_bias", spatialDims = "spatial_dims", saveAttn = "save_attn"
    }

    public init(from decoder: any Decoder) throws {
        let read = try OptionsReader<CodingKeys>(decoder)
        inChannels = try read.required(.inChannels)
        outChannels = try read.required(.outChannels)
        imgSize = (try read.required(.imgSize) as SpatialSize).values
        try read(into: &self, (.featureSize, \.featureSize), (.hiddenSize, \.hiddenSize), (.mlpDim, \.mlpDim),
                              (.numHeads, \.numHeads), (.projType, \.projType), (.normName, \.normName),
                              (.convBlock, \.convBlock), (.resBlock, \.resBlock), (.dropoutRate, \.dropoutRate),
                              (.qkvBias, \.qkvBias))
        try read.require(try read(.spatialDims, 3) == 3, .spatialDims, "only spatial_dims 3 is supported")
        _ = try read(.saveAttn, false)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self, (.inChannels, \.inChannels), (.outChannels, \.outChannels), (.imgSize, \.imgSize),
                           (.featureSize, \.featureSize), (.hiddenSize, \.hiddenSize), (.mlpDim, \.mlpDim),
                           (.numHeads, \.numHeads), (.projType, \.projType), (.normName, \.normName),
                           (.convBlock, \.convBlock), (.resBlock, \.resBlock), (.dropoutRate, \.dropoutRate),
                           (.qkvBias, \.qkvBias))
    }

    static let patchSize = 16

    /// MONAI's constructor checks, plus the sizes the decoder needs to line up with the skips.
    func validate() throws {
        func fail(_ message: String) -> BackboneError { .invalidConfiguration("UNETR: \(message)") }
        guard inChannels > 0, outChannels > 0 else { throw fail("in_channels and out_channels must be positive") }
        guard imgSize.count == 3 else { throw fail("img_size needs 3 sizes, got \(imgSize)") }
        try checkLimits(fail)
        guard imgSize.allSatisfy({ $0 >= Self.patchSize && $0 % Self.patchSize == 0 }) else {
            throw fail("img_size \(imgSize) must be multiples of the 16-voxel patch")
        }
        guard featureSize > 0, hiddenSize > 0, mlpDim > 0, numHeads > 0 else { throw fail("sizes must be positive") }
        guard hiddenSize % numHeads == 0 else { throw fail("hidden_size \(hiddenSize) should be divisible by num_heads \(numHeads)") }
        guard (0...1).contains(dropoutRate) else { throw fail("dropout_rate should be between 0 and 1") }
        guard ["conv", "perceptron"].contains(projType) else { throw fail("proj_type '\(projType)' (use conv or perceptron)") }
    }
}

extension UNETRConfig {
    /// The input size (training crop and inference window, NIfTI order): UNETR's position embedding
    /// fixes it to img_size, so a spec may only repeat it.
    public func inputSize(requested: [Int]?) throws -> [Int] {
        if let requested, requested != imgSize {
            throw BackboneError.invalidConfiguration(
                "UNETR only takes inputs of its img_size \(imgSize); set training.patch_size to \(imgSize) (or omit it)")
        }
        return imgSize
    }
}
