/// The sweep that the prediction and diagnosis tests train and then segment with.
public enum TinySweep {
    /// A sweep small enough for tests: a 16³ UNETR, two training cases, two kept checkpoints.
    public static let yaml = """
    name: tiny-diagnosis
    seeds: [0]
    backbone:
      name: unetr
      args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, mlp_dim: 48, num_heads: 2}
    datasets:
      - name: toy
        layout: synthetic
        synthetic: {kind: hippocampus, style: harp, subjects: 5}
        split: {validation: 1, test: 2, seed: 0}
    budgets: [2]
    methods: [full, lora]
    training: {epochs: 2, batch_size: 2, validate_every: 0, keep_last: 2}
    evaluation: {checkpoint: ensemble, min_component: 20}
    """
}
