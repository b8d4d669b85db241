#!/usr/bin/env python3
"""PyTorch + MONAI side of scripts/bench-vs-pytorch: one configuration per process.

Protocol of ../shared/ANCHORS.md: 2 threads, float32, batch 1, train mode,
DiceCELoss(to_onehot_y=True, softmax=True), Adam; median of N timed steps after --warmup (2) warm-ups.
Forward: eval mode under no_grad, median of N after 1 warm-up (none with --warmup 0).
Models: unetr-cpu, swinunetr-cpu (64³) and unetr-paper, swinunetr-paper (128³, the papers' sizes). Peak = the process's VmHWM.
LoRA: r = 8, alpha = 16 on every block's qkv / out_proj (Swin: attn.proj) / linear1 / linear2 as a
plain module wrapper; decoders and the output block stay trainable, everything else is frozen.

Prints one JSON object on stdout, in `harness bench --json`'s format. With --conv (e.g.
16x16@64,32x16@64: in x out channels @ size, as `harness bench --conv`), times PyTorch's 3x3x3
convolution instead: forward, data gradient alone and weight gradient alone, one JSON line each.
"""
import argparse
import json
import math
import os
import resource
import time


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="unetr-cpu",
                        choices=["unetr-cpu", "swinunetr-cpu", "unetr-paper", "swinunetr-paper"])
    parser.add_argument("--method", default="full", choices=["full", "lora"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (and one untimed forward when > 0)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--conv", help="time conv3d kernels of these geometries instead of a model")
    args = parser.parse_args()
    if args.conv:
        return conv_kernels(args)

    import torch
    import torch.nn as nn
    from monai.losses import DiceCELoss
    from monai.networks.nets import UNETR, SwinUNETR

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    # CPU scale (64³) and the papers' sizes (128³; experiments/paper/backbones, dropout off as at CPU scale).
    size = 128 if args.model.endswith("-paper") else 64
    if args.model.startswith("unetr"):
        hidden, mlp, heads = (768, 3072, 12) if size == 128 else (384, 1536, 6)
        model = UNETR(in_channels=1, out_channels=2, img_size=(size,) * 3, feature_size=16, hidden_size=hidden,
                      mlp_dim=mlp, num_heads=heads, proj_type="conv", norm_name="instance", res_block=True)
        targets = ("qkv", "out_proj", "linear1", "linear2")
    else:
        feature = 48 if size == 128 else 24
        try:
            model = SwinUNETR(in_channels=1, out_channels=2, feature_size=feature, depths=(2, 2, 2, 2),
                              num_heads=(3, 6, 12, 24))
        except TypeError:  # MONAI < 1.5 also wanted img_size
            model = SwinUNETR(img_size=(size,) * 3, in_channels=1, out_channels=2, feature_size=feature,
                              depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24))
        targets = ("qkv", "attn.proj", "linear1", "linear2")

    class LoRALinear(nn.Module):
        def __init__(self, base, r=8, alpha=16):
            super().__init__()
            self.base = base
            self.lora_A = nn.Linear(base.in_features, r, bias=False)
            self.lora_B = nn.Linear(r, base.out_features, bias=False)
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B.weight)
            self.scaling = alpha / r

        def forward(self, x):
            return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling

    if args.method == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        matched = []
        for name, module in list(model.named_modules()):
            for child_name, child in list(module.named_children()):
                full = f"{name}.{child_name}" if name else child_name
                if isinstance(child, nn.Linear) and any(full == t or full.endswith("." + t) for t in targets):
                    setattr(module, child_name, LoRALinear(child))
                    matched.append(full)
        assert matched, "LoRA matched no layer"
        for name, module in model.named_children():
            if name.startswith("decoder") or name == "out":
                for p in module.parameters():
                    p.requires_grad_(True)
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.requires_grad_(True)

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-4)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    g = torch.Generator().manual_seed(4)
    image = torch.randn(1, 1, size, size, size, generator=g)
    label = (torch.rand(1, 1, size, size, size, generator=g) < 0.3).float()

    def median(values):
        values = sorted(values)
        return values[len(values) // 2]

    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(image), label)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    walls, cpus = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - t0)

    model.eval()
    with torch.no_grad():
        for _ in range(min(args.warmup, 1)):
            model(image)
        forwards = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            model(image)
            forwards.append(time.perf_counter() - t0)

    print(json.dumps({
        "bench": args.model, "method": args.method, "train_step_s": median(walls),
        "train_step_cpu_s": median(cpus), "forward_s": median(forwards), "peak_rss_mb": peak_rss_mb(),
        "trainable_parameters": sum(p.numel() for p in trainable), "framework": "pytorch",
        "torch": torch.__version__, "threads": torch.get_num_threads(),
    }, sort_keys=True))


def conv_kernels(args):
    """Median GFLOP/s of PyTorch's 3x3x3 conv3d (padding 1) forward, data gradient and weight gradient."""
    import torch
    torch.set_num_threads(args.threads)
    for geometry in args.conv.split(","):
        channels, size = geometry.split("@")
        ci, co, size = *map(int, channels.split("x")), int(size)
        x = torch.randn(1, ci, size, size, size)
        w = torch.randn(co, ci, 3, 3, 3) * 0.1
        gy = torch.randn(1, co, size, size, size)
        flop = 2 * co * ci * 27 * size ** 3
        backward = lambda mask: torch.ops.aten.convolution_backward(
            gy, x, w, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], False, [0, 0, 0], 1, mask)
        kernels = {"conv3d_forward": lambda: torch.nn.functional.conv3d(x, w, padding=1),
                   "conv3d_backward_data": lambda: backward([True, False, False]),
                   "conv3d_backward_weight": lambda: backward([False, True, False])}
        for bench, run in kernels.items():
            run()
            walls = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                run()
                walls.append(time.perf_counter() - t0)
            seconds = sorted(walls)[len(walls) // 2]
            print(json.dumps({"bench": bench, "shape": f"{ci}->{co} k3 {size}^3", "gflops": flop / seconds / 1e9,
                              "seconds": seconds, "framework": "pytorch", "torch": torch.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
