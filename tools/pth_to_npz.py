#!/usr/bin/env python3
"""Converts a PyTorch checkpoint (.pth/.pt pickle) into an uncompressed .npz of float32 arrays.

Used by `autogan import reference` and `autogan convert fid-inception` so that the TypeScript side
never parses pickles. A bare state dict keeps its keys (`l1.weight`); a dict of state dicts, as the
AutoGAN reference saves (`gen_state_dict`, `avg_gen_state_dict`, `dis_state_dict`, ...), gets
`<outer>/<inner>` keys. Integer buffers (BatchNorm's `num_batches_tracked`) and non-tensor entries
(epochs, optimizer states, paths) are listed on stderr and skipped.

Usage: python3 tools/pth_to_npz.py IN.pth OUT.npz
Needs: pip install torch numpy
"""
import os
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    try:
        import numpy as np
        import torch
    except ImportError as e:  # the TypeScript caller turns exit 3 into an install hint
        print(f"missing Python package: {e.name}", file=sys.stderr)
        return 3
    try:
        obj = torch.load(src, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        print(f"{src}: cannot read as a PyTorch checkpoint: {e}", file=sys.stderr)
        return 4
    arrays = {}
    skipped = []

    def add(key, value):
        if torch.is_tensor(value):
            if value.is_floating_point():
                arrays[key] = value.detach().to(torch.float32).contiguous().numpy()
            else:
                skipped.append(f"{key} ({value.dtype})")
        elif isinstance(value, dict):
            for k, v in value.items():
                add(f"{key}/{k}" if key else str(k), v)
        else:
            skipped.append(f"{key} ({type(value).__name__})")

    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        print(f"{src}: holds a {type(obj).__name__}, not a state dict", file=sys.stderr)
        return 4
    # Optimizer states are nested dicts of tensors keyed by integers: not weights.
    for k, v in obj.items():
        if isinstance(k, str) and "optimizer" in k:
            skipped.append(f"{k} (optimizer state)")
            continue
        add(str(k), v)
    if not arrays:
        print(f"{src}: no floating-point tensors found", file=sys.stderr)
        return 4
    tmp = f"{dst}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dst)
    for s in skipped:
        print(f"skipped {s}", file=sys.stderr)
    print(f"{len(arrays)} tensors written to {dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
