#!/usr/bin/env python3
"""Golden fixtures for the TensorFlow.js FID Inception (core/metrics/fid-inception/).

Builds pytorch-fid's FID Inception (`fid_inception_v3` + `InceptionV3(use_fid_inception=True)`)
WITHOUT its weight download, fills every tensor from a deterministic recipe that the TypeScript
side reproduces bit for bit (core/metrics/fid-inception/synthetic.ts), runs a few images through it
and writes, into test/fixtures/fid-inception/:

  reference.json  versions, the recipe, the state dict's names and shapes (the published file's,
                  since pytorch-fid loads that file strictly into this module), the parameter
                  count, every block's output shape and a few per-block statistics
  outputs.npz     pool_3 features and unbiased logits of the network images, of one end-to-end
                  image (32x32 uint8 -> TF1 legacy resize -> network), and the resize cases

Nothing here is the reference network's code: the network comes from the installed pytorch-fid
package; this script only drives it. The TF1 legacy resize expectations are computed in numpy here.

Usage (from the repository root, in a venv with torch, torchvision, pytorch-fid, numpy):
  python3 tools/reference-fixtures/make_fid_inception_fixtures.py [--out test/fixtures/fid-inception]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------
# The deterministic recipe (mirrored in core/metrics/fid-inception/synthetic.ts). Integer hashing
# only, so both languages produce identical uint32 streams; values are formed in float64 with
# correctly rounded operations (*, /, sqrt) and then rounded once to float32.
# ---------------------------------------------------------------------------------------------

GOLDEN = np.uint32(0x9E3779B1)


def fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(seed_text: str, n: int) -> np.ndarray:
    """n values in [0, 1) (multiples of 2^-24) from the name's hash: lowbias32(seed + i*golden)."""
    with np.errstate(over="ignore"):
        x = np.uint32(fnv1a32(seed_text)) + np.arange(n, dtype=np.uint32) * GOLDEN
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return (x >> np.uint32(8)).astype(np.float64) / 16777216.0


def synthetic_tensor(name: str, shape) -> np.ndarray:
    n = int(np.prod(shape))
    u = uniform(name, n)
    if name.endswith("conv.weight") or name == "fc.weight":
        fan_in = int(np.prod(shape[1:]))
        v = (2.0 * u - 1.0) * np.sqrt(6.0 / fan_in)  # He-uniform: activations keep their scale
    elif name.endswith("bn.weight"):
        v = 0.8 + 0.4 * u
    elif name.endswith("bn.bias") or name.endswith("bn.running_mean"):
        v = 0.2 * (2.0 * u - 1.0)
    elif name.endswith("bn.running_var"):
        v = 0.5 + u
    elif name == "fc.bias":
        v = 0.1 * (2.0 * u - 1.0)
    else:
        raise ValueError(f"no recipe for {name}")
    return v.astype(np.float32).reshape(shape)


def synthetic_pixels(seed_text: str, h: int, w: int, c: int) -> np.ndarray:
    """uint8-valued float32 image, HWC order (the flat index runs over H, W, C like NHWC)."""
    return np.floor(uniform(seed_text, h * w * c) * 256.0).astype(np.float32).reshape(h, w, c)


# ---------------------------------------------------------------------------------------------
# TF1 legacy bilinear resize (tf.image.resize_bilinear, align_corners=False, no half-pixel
# centres): src = dst * (in/out) in float32, lerp between floor(src) and min(ceil(src), in-1).
# ---------------------------------------------------------------------------------------------


def tf1_legacy_resize(img: np.ndarray, oh: int, ow: int) -> np.ndarray:
    ih, iw = img.shape[:2]

    def axis(n_in, n_out):
        scale = np.float32(n_in) / np.float32(n_out)
        src = np.arange(n_out, dtype=np.float32) * scale
        lo = np.floor(src)
        hi = np.minimum(np.ceil(src), n_in - 1)
        return lo.astype(np.int64), hi.astype(np.int64), (src - lo).astype(np.float32)

    y0, y1, dy = axis(ih, oh)
    x0, x1, dx = axis(iw, ow)
    img = img.astype(np.float32)
    dx = dx[None, :, None]
    top = img[y0][:, x0] + (img[y0][:, x1] - img[y0][:, x0]) * dx
    bottom = img[y1][:, x0] + (img[y1][:, x1] - img[y1][:, x0]) * dx
    return (top + (bottom - top) * dy[:, None, None]).astype(np.float32)


# ---------------------------------------------------------------------------------------------


def build_reference():
    """pytorch-fid's FID Inception with random (then recipe) weights; no download happens."""
    import torchvision
    from pytorch_fid import inception as pfi

    sentinel = object()

    def no_download(url, *args, **kwargs):
        assert "pt_inception-2015-12-05" in url, url
        return sentinel

    original_load = torchvision.models.Inception3.load_state_dict

    def load_own(self, state, *args, **kwargs):
        # fid_inception_v3 loads the downloaded file strictly; hand it the module's own state.
        return original_load(self, self.state_dict() if state is sentinel else state, *args, **kwargs)

    pfi.load_state_dict_from_url = no_download
    torchvision.models.Inception3.load_state_dict = load_own
    try:
        torch.manual_seed(0)
        net = pfi.fid_inception_v3()  # torchvision Inception3 with the FID blocks and 1008 classes
    finally:
        torchvision.models.Inception3.load_state_dict = original_load

    state = {
        k: torch.from_numpy(synthetic_tensor(k, tuple(v.shape)))
        for k, v in net.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    net.load_state_dict(state, strict=False)
    net.eval()

    # pytorch-fid's wrapper around exactly this module (blocks share its submodules).
    built = pfi.fid_inception_v3
    pfi.fid_inception_v3 = lambda: net
    try:
        wrapper = pfi.InceptionV3(
            output_blocks=[0, 1, 2, 3], resize_input=False, normalize_input=False
        ).eval()
    finally:
        pfi.fid_inception_v3 = built
    return net, wrapper, pfi


BLOCKS = [
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "MaxPool_3a_3x3",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "MaxPool_5a_3x3",
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
    "Mixed_7a",
    "Mixed_7b",
    "Mixed_7c",
    "pool_3",
]


def run(net, wrapper, x_nhwc: np.ndarray):
    """pool_3, unbiased logits and per-block outputs for network inputs x (NHWC, already scaled)."""
    captured = {}
    modules = {name: getattr(net, name) for name in BLOCKS if hasattr(net, name)}
    modules["MaxPool_3a_3x3"] = wrapper.blocks[0][3]
    modules["MaxPool_5a_3x3"] = wrapper.blocks[1][2]
    modules["pool_3"] = wrapper.blocks[3][3]
    hooks = [
        m.register_forward_hook(lambda _m, _i, out, name=name: captured.__setitem__(name, out.detach()))
        for name, m in modules.items()
    ]
    try:
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))
            outs = wrapper(x)
            pool3 = outs[3].reshape(x.shape[0], -1)
            # The IS code's logits: pool_3 . W without the bias (torch-fidelity's logits_unbiased).
            logits = pool3 @ net.fc.weight.T
    finally:
        for h in hooks:
            h.remove()
    return pool3.numpy(), logits.numpy(), captured


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join("test", "fixtures", "fid-inception"))
    ap.add_argument("--images", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    import torchvision
    from importlib.metadata import version

    net, wrapper, _ = build_reference()
    state = net.state_dict()
    keys = [[k, list(v.shape)] for k, v in state.items() if not k.endswith("num_batches_tracked")]
    param_count = sum(p.numel() for p in net.parameters())
    floats = sum(int(np.prod(s)) for _, s in keys)

    # Network images: uint8 noise at 299x299, scaled as the 2015 graph does: (x - 128) / 128.
    pixels = np.stack([synthetic_pixels(f"image:{i}", 299, 299, 3) for i in range(args.images)])
    pool3, logits, blocks = run(net, wrapper, (pixels - 128.0) / 128.0)
    _, _, one = run(net, wrapper, (pixels[:1] - 128.0) / 128.0)

    # End to end: a 32x32 uint8 image -> TF1 legacy resize to 299 -> (x - 128) / 128 -> network.
    small = synthetic_pixels("e2e:0", 32, 32, 3)
    e2e_in = tf1_legacy_resize(small, 299, 299)
    e2e_pool3, e2e_logits, _ = run(net, wrapper, ((e2e_in - 128.0) / 128.0)[None])

    arrays = {
        "pool3": pool3,
        "logits": logits,
        "e2e_pool3": e2e_pool3,
        "e2e_logits": e2e_logits,
    }
    # Resize cases: up, down, non-square, non-integer ratios, CIFAR (32) and STL (48) to 299.
    ramp = np.arange(24, dtype=np.float32).reshape(4, 6, 1) * 10.0
    checker = np.array([[0, 255], [255, 0]], dtype=np.float32).reshape(2, 2, 1)
    cases = [
        ("checker2_to5", checker, 5, 5),
        ("ramp4x6_to7x3", ramp, 7, 3),
        ("noise5_to13", synthetic_pixels("resize:noise5", 5, 5, 3), 13, 13),
        ("noise9_to4", synthetic_pixels("resize:noise9", 9, 9, 2), 4, 4),
        ("cifar32_to299", small, 299, 299),
        ("stl48_to299", synthetic_pixels("resize:stl48", 48, 48, 1), 299, 299),
    ]
    resize_meta = []
    for name, img, oh, ow in cases:
        arrays[f"resize_{name}_in"] = img.astype(np.float32)
        arrays[f"resize_{name}_out"] = tf1_legacy_resize(img, oh, ow)
        resize_meta.append({"name": name, "in": list(img.shape), "out": [oh, ow, img.shape[2]]})

    os.makedirs(args.out, exist_ok=True)
    npz = os.path.join(args.out, "outputs.npz")
    # C order always: numpy may produce Fortran-ordered results from the fancy indexing above,
    # and a reader need not transpose N-d arrays.
    np.savez(npz, **{k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()})

    reference = {
        "generatedBy": "tools/reference-fixtures/make_fid_inception_fixtures.py",
        "versions": {
            "pytorch-fid": version("pytorch-fid"),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "numpy": np.__version__,
        },
        "recipe": (
            "tensor `name`, flat index i (torch layout): x = fnv1a32(name) + i*0x9E3779B1 (uint32), "
            "lowbias32(x) >> 8 / 2^24 = u; conv/fc weight (2u-1)*sqrt(6/fan_in), bn.weight 0.8+0.4u, "
            "bn.bias and running_mean 0.2(2u-1), running_var 0.5+u, fc.bias 0.1(2u-1); images: "
            "floor(256u) over NHWC with name image:<k>"
        ),
        "parameterCount": int(param_count),
        "stateDictFloats": int(floats),
        "stateDict": keys,
        "images": {"count": args.images, "size": 299, "seeds": [f"image:{i}" for i in range(args.images)]},
        "e2e": {"seed": "e2e:0", "size": 32},
        # Output shape of every block for one image, NHWC (the torch NCHW shape transposed).
        "blocks": [
            {
                "name": n,
                "shape": [one[n].shape[0], *one[n].shape[2:], one[n].shape[1]],
                # Statistics of image 0's block output, to localise a mismatch.
                "mean": float(blocks[n][0].double().mean()),
                "absMean": float(blocks[n][0].double().abs().mean()),
            }
            for n in BLOCKS
        ],
        "resize": resize_meta,
    }
    ref_file = os.path.join(args.out, "reference.json")
    with open(ref_file, "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    # The repository's lint checks JSON formatting; format it the way prettier wants when possible.
    try:
        subprocess.run(["npx", "--no-install", "prettier", "--write", ref_file], check=False, capture_output=True)
    except OSError:
        pass
    print(
        json.dumps(
            {
                "out": args.out,
                "parameterCount": int(param_count),
                "stateDictTensors": len(keys),
                "stateDictFloats": int(floats),
                "pool3AbsMean": float(np.abs(pool3).mean()),
                "logitsStd": float(logits.std()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
