"""Records where a MONAI parity fixture's leaky ReLUs sit on their kink (kinks.json).

A leaky ReLU whose float32 input lies within rounding error of zero takes whichever branch the
rounding picks: PyTorch and our engine sum in different orders and may pick different ones. That
changes the derivative at one element by 0.99·g and, through the convolutions and norms upstream,
can move grad_input or a conv weight's gradient by several percent although both runs are correct to
float32 (the float64 gradient with either branch matches one of them to ~1e-6). This script reruns
the fixture in PyTorch float32, checks that it reproduces expected.safetensors, and lists for every
leaky-ReLU call (in forward order) the elements with |x| <= TOLERANCE * max|x| and their values.
`runParity` then takes the reference's branch at those elements when ours is near zero too.

Usage: python parity_kinks.py FIXTURE_DIR [OUT.json]   (default OUT: FIXTURE_DIR/kinks.json)
Needs torch, monai and safetensors (MONAI 1.6.1 for the fixtures in shared/fixtures/parity).
"""
import json, os, sys
import torch
from safetensors.torch import load_file
from monai.networks.nets import UNETR, SwinUNETR

TOLERANCE = 1e-5


def build(kind, args):
    if kind == "unetr":
        return UNETR(**args)
    try:
        return SwinUNETR(**args)
    except TypeError:  # MONAI < 1.5 still required img_size
        return SwinUNETR(img_size=(64, 64, 64), **args)


def main(folder, out):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    model = build(cfg["backbone"], cfg["args"]).float().eval()
    model.load_state_dict(load_file(os.path.join(folder, "weights.safetensors")))
    io = load_file(os.path.join(folder, "io.safetensors"))
    expected = load_file(os.path.join(folder, "expected.safetensors"))
    calls = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.LeakyReLU):
            def forward(x, module=module, name=name):
                calls.append((name, x.detach().clone()))
                return torch.nn.functional.leaky_relu(x, module.negative_slope)
            module.forward = forward
    x = io["input"].clone().requires_grad_(True)
    logits = model(x)
    (logits * io["grad_output"]).sum().backward()
    for name, ours in [("logits", logits.detach()), ("grad_input", x.grad)]:
        ref = expected[name]
        error = ((ours - ref).abs().max() / ref.abs().max()).item()
        if error > 1e-6:
            sys.exit(f"{name} differs from expected.safetensors by {error:.2e} (relative): this PyTorch does not "
                     "reproduce the fixture, so its branches may not be the fixture's")
    record = {"fixture": os.path.basename(os.path.normpath(folder)), "tolerance": TOLERANCE,
              "torch_version": torch.__version__, "calls": []}
    for name, value in calls:
        scale = value.abs().max().item()
        flat = value.flatten()
        near = (flat.abs() <= TOLERANCE * scale).nonzero().flatten().tolist()
        record["calls"].append({"module": name, "shape": list(value.shape), "max_abs": scale,
                                "near_zero": [[i, flat[i].item()] for i in near]})
    with open(out, "w") as f:
        json.dump(record, f, separators=(",", ":"))
    total = sum(len(c["near_zero"]) for c in record["calls"])
    print(f"{out}: {len(calls)} leaky-ReLU calls, {total} inputs within {TOLERANCE:g}·max of zero")


if __name__ == "__main__":
    fixture = sys.argv[1]
    main(fixture, sys.argv[2] if len(sys.argv) > 2 else os.path.join(fixture, "kinks.json"))
