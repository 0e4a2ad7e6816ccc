#!/usr/bin/env python3
"""PyTorch (CPU) timing of one AutoGAN training step, the baseline for `bench:compare`.

What it measures: the wall time of one discriminator step and one generator step of the hinge-loss
GAN our TypeScript trainer runs (core/gan/trainer.ts, `step` and `discriminatorGradients`), for a
derived generator (only the path an architecture vector selects) at a given stage, and the
stage's discriminator with spectral norm.

The networks are written here for the benchmark from our own sources and mirror them:
  core/arch/encoding.ts       architecture vector -> cells (conv pre/post, norm, upsample,
                              shortcut, skip-in bitmask with the lowest bit = nearest earlier cell)
  core/gan/generator.ts       linear -> cells -> BN -> ReLU -> 3x3 conv -> tanh (derived weights)
  core/gan/discriminator.ts   residual blocks, avg-pool downsampling, spectral norm on every conv
                              and on the bias-free output linear, global sum pooling
  core/nn/layers.ts           conv 'same', stride-2 kernel-2 deconv, BN (momentum 0.1, eps 1e-5),
                              affine-free instance norm, bilinear (align_corners=False) / nearest
  core/nn/spectral-norm.ts    one power iteration per training-mode D forward
                              (torch.nn.utils.spectral_norm does exactly that)
  core/gan/config.ts          image size = bottomWidth * 2^(stage+1)
Parameter counts equal our GanTrainer's G and D ParamStores (trainable weights; D holds every
growing block of a `cells`-cell model, as ours does, though a stage runs only some of them).

Step protocol (one D step then one G step per rep, timed apart with time.perf_counter):
  D: z ~ N(0,1) [dBatch, latent]; fake = G(z) in training mode under no_grad (BN running stats
     move); loss = mean(relu(1 - D(real))) + mean(relu(1 + D(fake))); zero_grad; backward; Adam.
     `real` is one fixed U(-1,1) batch [dBatch, C, H, W].
  G: z ~ N(0,1) [gBatch, latent]; loss = -mean(D(G(z))); backward; Adam on G.
     --g-step-d-grads frozen (default): D's parameters have requires_grad=False during the G step,
     so no D weight gradients are computed (as our trainer, which differentiates G's weights only);
     computed: D weight gradients are computed too (what the original PyTorch reference does).

Usage:
  python bench/torch/gan_step.py --json '{"arch":[0,1,0,1,1,2,2,0,1],"stage":1,"gfDim":32,
      "dfDim":32,"latentDim":64,"gBatch":32,"dBatch":32}' [--reps N] [--warmup N]
      [--threads N] [--g-step-d-grads frozen|computed] [--params-only] [--serve]
  --serve: after warm-up print {"ready": true}; then each stdin line N times N reps and prints
  {"d": [...], "g": [...]}; a line "end" prints the final document (all reps served) and exits.
Config keys: arch, stage (0..cells-1; inferred from len(arch) if absent), gfDim, dfDim, latentDim,
  bottomWidth (4), channels (3), gBatch, dBatch, reps (5), warmup (2), threads (os.cpu_count()),
  seed (0); optional: cells (3), beta1 (0), beta2 (0.9), gLr (2e-4), dLr (2e-4),
  gStepDGrads ('frozen'), skipOut ('with-skip-ins' | 'before-skip-ins').
Command-line flags override the JSON. Prints one JSON document on stdout (last); on error a JSON
{"error": ...} (exit 3 when torch is missing, 2 for a bad configuration).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time


def fail(message, code):
    print(json.dumps({"error": message}))
    sys.exit(code)


class ConfigError(Exception):
    pass


# ---- architecture encoding (core/arch/encoding.ts) ----------------------------------------------

CONV = ("post", "pre")
NORM = ("none", "bn", "in")
UP = ("bilinear", "nearest", "deconv")
FIELD_NAMES = ("conv", "norm", "up", "shortcut", "skip-ins")


def vector_length(stage):
    return 4 + 5 * stage


def cell_choice_counts(s):
    base = [len(CONV), len(NORM), len(UP), 2]
    return base if s == 0 else base + [2**s]


def parse_arch(vector):
    """Cells as dicts; skip_ins[i] is a skip-in from earlier cell i (bit s-1-i of the mask)."""
    if len(vector) < 4 or (len(vector) - 4) % 5 != 0:
        raise ConfigError(
            f"architecture vector has {len(vector)} integers; expected 4 for one cell, 9 for two, 14 for three"
        )
    cells = []
    at = 0
    s = 0
    while at < len(vector):
        counts = cell_choice_counts(s)
        fields = vector[at : at + len(counts)]
        for k, v in enumerate(fields):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= counts[k]:
                raise ConfigError(
                    f"cell {s} {FIELD_NAMES[k]} (position {at + k}) is {v!r}; expected an integer in 0..{counts[k] - 1}"
                )
        mask = 0 if s == 0 else fields[4]
        cells.append(
            {
                "conv": CONV[fields[0]],
                "norm": NORM[fields[1]],
                "up": UP[fields[2]],
                "shortcut": fields[3] == 1,
                "skip_ins": [((mask >> (s - 1 - i)) & 1) == 1 for i in range(s)],
            }
        )
        at += len(counts)
        s += 1
    return cells


# ---- configuration --------------------------------------------------------------------------------


def read_config(argv):
    ap = argparse.ArgumentParser(description="PyTorch CPU timing of one AutoGAN D step and G step.")
    ap.add_argument("--json", required=True, help="configuration as a JSON object")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--g-step-d-grads", choices=("frozen", "computed"))
    ap.add_argument("--device", choices=("cpu", "cuda"), help="where the networks run (default cpu)")
    ap.add_argument("--params-only", action="store_true", help="build the networks, print sizes, no timing")
    ap.add_argument(
        "--saved-bytes",
        action="store_true",
        help="print the bytes autograd saves for the G step's backward pass (D frozen), no timing",
    )
    ap.add_argument(
        "--serve",
        action="store_true",
        help="after warm-up print a ready line, then for each stdin line N time N reps and print them; 'end' finishes",
    )
    args = ap.parse_args(argv)
    try:
        raw = json.loads(args.json)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--json is not valid JSON: {e}")
    if not isinstance(raw, dict):
        raise ConfigError("--json must be a JSON object")

    def get_int(key, default=None, minimum=None):
        v = raw.get(key, default)
        if v is None:
            raise ConfigError(f"config key {key!r} is required")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
            raise ConfigError(f"config key {key!r} must be an integer, got {v!r}")
        v = int(v)
        if minimum is not None and v < minimum:
            raise ConfigError(f"config key {key!r} must be >= {minimum}, got {v}")
        return v

    def get_float(key, default):
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"config key {key!r} must be a number, got {v!r}")
        return float(v)

    arch = raw.get("arch")
    if not isinstance(arch, list):
        raise ConfigError("config key 'arch' must be a list of integers")
    arch = [int(a) if isinstance(a, float) and int(a) == a else a for a in arch]
    cells_arch = parse_arch(arch)
    cells = get_int("cells", 3, 1)
    stage = raw.get("stage")
    stage = len(cells_arch) - 1 if stage is None else get_int("stage", minimum=0)
    if stage > cells - 1:
        raise ConfigError(f"stage {stage} is outside 0..{cells - 1}")
    if len(arch) != vector_length(stage):
        raise ConfigError(
            f"architecture has {len(arch)} integers; stage {stage} needs {vector_length(stage)}"
        )
    cfg = {
        "arch": arch,
        "cells_arch": cells_arch,
        "stage": stage,
        "cells": cells,
        "gfDim": get_int("gfDim", minimum=1),
        "dfDim": get_int("dfDim", minimum=1),
        "latentDim": get_int("latentDim", minimum=1),
        "bottomWidth": get_int("bottomWidth", 4, 1),
        "channels": get_int("channels", 3, 1),
        "gBatch": get_int("gBatch", minimum=1),
        "dBatch": get_int("dBatch", minimum=1),
        "reps": args.reps if args.reps is not None else get_int("reps", 5, 1),
        "warmup": args.warmup if args.warmup is not None else get_int("warmup", 2, 0),
        "threads": args.threads if args.threads is not None else get_int("threads", os.cpu_count() or 1, 1),
        "seed": get_int("seed", 0),
        "beta1": get_float("beta1", 0.0),
        "beta2": get_float("beta2", 0.9),
        "gLr": get_float("gLr", 2e-4),
        "dLr": get_float("dLr", 2e-4),
        "gStepDGrads": args.g_step_d_grads or raw.get("gStepDGrads", "frozen"),
        "skipOut": raw.get("skipOut", "with-skip-ins"),
        "paramsOnly": args.params_only,
        "savedBytes": args.saved_bytes,
        "serve": args.serve,
        "device": args.device or raw.get("device", "cpu"),
    }
    if cfg["reps"] < 1 or cfg["warmup"] < 0 or cfg["threads"] < 1:
        raise ConfigError("reps and threads must be >= 1, warmup >= 0")
    if cfg["device"] not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'cpu' or 'cuda', got {cfg['device']!r}")
    if cfg["gStepDGrads"] not in ("frozen", "computed"):
        raise ConfigError(f"gStepDGrads must be 'frozen' or 'computed', got {cfg['gStepDGrads']!r}")
    if cfg["skipOut"] not in ("with-skip-ins", "before-skip-ins"):
        raise ConfigError(f"skipOut must be 'with-skip-ins' or 'before-skip-ins', got {cfg['skipOut']!r}")
    return cfg


# ---- models ---------------------------------------------------------------------------------------


def build_models(torch, cfg):
    nn = torch.nn
    F = torch.nn.functional

    def conv(cin, cout, k):
        # Our conv2dSpecs: Xavier-uniform weight, U(±1/sqrt(fan_in)) bias (= PyTorch's default bias).
        c = nn.Conv2d(cin, cout, k, padding=k // 2)
        nn.init.xavier_uniform_(c.weight)
        return c

    def deconv(c):
        # Stride-2, kernel-2 transposed conv; PyTorch's default init is what deconvSpecs uses.
        return nn.ConvTranspose2d(c, c, 2, stride=2)

    def batch_norm(c):
        bn = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
        nn.init.normal_(bn.weight, 1.0, 0.02)
        nn.init.zeros_(bn.bias)
        return bn

    def resize(x, factor, up):
        if factor == 1:
            return x
        if up == "bilinear":
            return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
        return F.interpolate(x, scale_factor=factor, mode="nearest")

    class Cell(nn.Module):
        """One generator cell with only the chosen operations' weights (generator.ts `cell`)."""

        def __init__(self, s, a, C, skip_out_mode):
            super().__init__()
            self.s = s
            self.a = a
            self.skip_out_mode = skip_out_mode
            self.conv1 = conv(C, C, 3)
            self.conv2 = conv(C, C, 3)
            if a["norm"] == "bn":
                self.bn1 = batch_norm(C)
                self.bn2 = batch_norm(C)
            if a["up"] == "deconv":
                self.deconv1 = deconv(C)
            if a["shortcut"]:
                self.sc = conv(C, C, 1)
                if a["up"] == "deconv":
                    self.sc_deconv = deconv(C)
            skips = [i for i, on in enumerate(a["skip_ins"]) if on]
            self.skips = skips
            self.skip = nn.ModuleDict({str(i): conv(C, C, 1) for i in skips})
            if a["up"] == "deconv":
                # One deconv chain per scale 2^(s-i): m stride-2 deconvs for a skip-in from s-i cells back.
                self.skip_up = nn.ModuleDict(
                    {str(2 ** (s - i)): nn.Sequential(*[deconv(C) for _ in range(s - i)]) for i in skips}
                )

        def norm(self, k, x):
            n = self.a["norm"]
            if n == "bn":
                return getattr(self, f"bn{k}")(x)
            if n == "in":
                return F.instance_norm(x, eps=1e-5)
            return x

        def upsample(self, x, deconv_module):
            if self.a["up"] == "deconv":
                return deconv_module(x)
            return resize(x, 2, self.a["up"])

        def forward(self, x, skip_features):
            a = self.a
            if a["conv"] == "post":
                h = self.conv1(self.upsample(x, getattr(self, "deconv1", None)))
                h = F.relu(self.norm(1, h))
            else:
                h = F.relu(self.norm(1, x))
                h = self.conv1(self.upsample(h, getattr(self, "deconv1", None)))
            before_skip_ins = h
            for i in self.skips:
                ft = skip_features[i]
                scale = h.shape[2] // ft.shape[2]
                if a["up"] == "deconv":
                    ft = self.skip_up[str(scale)](ft)
                else:
                    ft = resize(ft, scale, a["up"])
                h = h + self.skip[str(i)](ft)
            skip_out = h if self.skip_out_mode == "with-skip-ins" else before_skip_ins
            if a["conv"] == "post":
                out = F.relu(self.norm(2, self.conv2(h)))
            else:
                out = self.conv2(F.relu(self.norm(2, h)))
            if a["shortcut"]:
                up = self.sc_deconv(x) if a["up"] == "deconv" else resize(x, 2, a["up"])
                out = out + self.sc(up)
            return skip_out, out

    class Generator(nn.Module):
        """Derived generator (generator.ts `generate` with `generatorSpecs(config, arch)`)."""

        def __init__(self):
            super().__init__()
            C, B = cfg["gfDim"], cfg["bottomWidth"]
            self.C, self.B = C, B
            self.l1 = nn.Linear(cfg["latentDim"], B * B * C)  # PyTorch default init = our fanIn init
            self.cells = nn.ModuleList(
                [Cell(s, a, C, cfg["skipOut"]) for s, a in enumerate(cfg["cells_arch"])]
            )
            self.out_bn = batch_norm(C)
            self.out_conv = conv(C, cfg["channels"], 3)

        def forward(self, z):
            h = self.l1(z).view(z.shape[0], self.C, self.B, self.B)
            skips = []
            for c in self.cells:
                skip_out, h = c(h, skips)
                skips.append(skip_out)
            return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))

    sn = torch.nn.utils.spectral_norm  # one power iteration per training-mode forward

    class DBlock(nn.Module):
        """discriminator.ts `block`: (optimized) residual block, optional 2x2 average-pool downsampling."""

        def __init__(self, cin, ch, optimized, downsample, learnable_sc):
            super().__init__()
            self.optimized = optimized
            self.downsample = downsample
            self.learnable_sc = learnable_sc
            self.c1 = sn(conv(cin, ch, 3))
            self.c2 = sn(conv(ch, ch, 3))
            if learnable_sc:
                self.sc = sn(conv(cin, ch, 1))

        def forward(self, x):
            h = x if self.optimized else F.relu(x)
            h = self.c1(h)
            h = self.c2(F.relu(h))
            if self.downsample:
                h = F.avg_pool2d(h, 2)
            if self.optimized:
                sc = self.sc(F.avg_pool2d(x, 2))
            elif self.learnable_sc:
                sc = self.sc(x)
                if self.downsample:
                    sc = F.avg_pool2d(sc, 2)
            else:
                sc = x
            return h + sc

    class Discriminator(nn.Module):
        """discriminator.ts: growing blocks 0..cells-1 (stage k runs 0..k), then a fixed last block."""

        def __init__(self):
            super().__init__()
            ch, n = cfg["dfDim"], cfg["cells"]
            blocks = []
            for i in range(n):
                optimized = i == 0
                downsample = optimized or i < n - 1
                cin = cfg["channels"] if optimized else ch
                blocks.append(DBlock(cin, ch, optimized, downsample, optimized or downsample))
            self.growing = nn.ModuleList(blocks)
            self.last = DBlock(ch, ch, False, False, False)
            self.out = sn(nn.Linear(ch, 1, bias=False))
            self.stage = cfg["stage"]

        def forward(self, x):
            h = x
            for b in self.growing[: self.stage + 1]:
                h = b(h)
            h = F.relu(self.last(h))
            return self.out(h.sum(dim=(2, 3)))

        def stage_parameters(self):
            mods = list(self.growing[: self.stage + 1]) + [self.last, self.out]
            return [p for m in mods for p in m.parameters()]

    return Generator(), Discriminator()


# ---- timing ---------------------------------------------------------------------------------------


def g_step_saved_bytes(torch, cfg, G, D, dev):
    """Bytes of the tensors autograd keeps for the G step's backward pass (each storage once,
    parameters left out), D frozen as in the timed G step: what bench:step-memory counts on our side."""
    storages = {}
    params = {p.untyped_storage().data_ptr() for p in list(G.parameters()) + list(D.parameters())}

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in params:
            storages[st.data_ptr()] = st.nbytes()
        return t

    for p in D.parameters():
        p.requires_grad_(False)
    z = torch.randn(cfg["gBatch"], cfg["latentDim"], device=dev)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = -D(G(z)).mean()
    del loss
    for p in D.parameters():
        p.requires_grad_(True)
    return sum(storages.values())


def peak_rss_bytes():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024  # Linux reports kilobytes


def main(argv):
    try:
        cfg = read_config(argv)
    except ConfigError as e:
        fail(str(e), 2)
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install raising something else
        fail(f"torch not installed: {type(e).__name__}: {e}", 3)

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    F = torch.nn.functional
    dev = torch.device(cfg["device"])
    if dev.type == "cuda" and not torch.cuda.is_available():
        fail("device cuda requested but torch.cuda.is_available() is false (CPU-only torch build or no GPU)", 3)
    G, D = build_models(torch, cfg)
    G.to(dev)
    D.to(dev)
    G.train()
    D.train()
    count = lambda ps: sum(p.numel() for p in ps if p.requires_grad)
    size = cfg["bottomWidth"] * 2 ** (cfg["stage"] + 1)
    result = {
        "torchVersion": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "imageSize": size,
        "gParams": count(G.parameters()),
        "dParams": count(D.parameters()),
        "dParamsAtStage": count(D.stage_parameters()),
    }
    if cfg["paramsOnly"]:
        print(json.dumps(result))
        return 0
    if cfg["savedBytes"]:
        result["gStepSavedForBackwardBytes"] = g_step_saved_bytes(torch, cfg, G, D, dev)
        print(json.dumps(result))
        return 0

    betas = (cfg["beta1"], cfg["beta2"])
    g_opt = torch.optim.Adam(G.parameters(), lr=cfg["gLr"], betas=betas, eps=1e-8)
    d_opt = torch.optim.Adam(D.parameters(), lr=cfg["dLr"], betas=betas, eps=1e-8)
    real = torch.empty(cfg["dBatch"], cfg["channels"], size, size, device=dev).uniform_(-1, 1)
    d_params = list(D.parameters())
    freeze_d = cfg["gStepDGrads"] == "frozen"

    def d_step():
        z = torch.randn(cfg["dBatch"], cfg["latentDim"], device=dev)
        with torch.no_grad():
            fake = G(z)  # training mode: batch statistics, running statistics updated
        d_opt.zero_grad(set_to_none=True)
        loss = F.relu(1 - D(real)).mean() + F.relu(1 + D(fake)).mean()
        loss.backward()
        d_opt.step()
        return loss.item()

    def g_step():
        if freeze_d:
            for p in d_params:
                p.requires_grad_(False)
        try:
            z = torch.randn(cfg["gBatch"], cfg["latentDim"], device=dev)
            g_opt.zero_grad(set_to_none=True)
            loss = -D(G(z)).mean()
            loss.backward()
            g_opt.step()
            return loss.item()
        finally:
            if freeze_d:
                for p in d_params:
                    p.requires_grad_(True)

    for _ in range(cfg["warmup"]):
        d_step()
        g_step()
    d_times, g_times = [], []

    def time_reps(n):
        ds, gs = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            d_step()
            t1 = time.perf_counter()
            g_step()
            t2 = time.perf_counter()
            ds.append(t1 - t0)
            gs.append(t2 - t1)
        d_times.extend(ds)
        g_times.extend(gs)
        return ds, gs

    if cfg["serve"]:
        # Blocks on request, so the driver can interleave them with our side's blocks: both then
        # meet the same phases of a shared machine.
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            if line.strip() == "end":
                break
            ds, gs = time_reps(int(line))
            print(json.dumps({"d": ds, "g": gs}), flush=True)
    else:
        time_reps(cfg["reps"])

    result.update(
        {
            "dStepSeconds": d_times,
            "gStepSeconds": g_times,
            "dMedian": statistics.median(d_times),
            "gMedian": statistics.median(g_times),
            "peakRssBytes": peak_rss_bytes(),
            # loss.item() in each step synchronises the GPU, so the step times include the kernels
            "gpuPeakBytes": torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None,
            "gStepDGrads": cfg["gStepDGrads"],
            "arch": cfg["arch"],
            "stage": cfg["stage"],
            "gBatch": cfg["gBatch"],
            "dBatch": cfg["dBatch"],
        }
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit:
        raise
    except Exception as e:
        fail(f"{type(e).__name__}: {e}", 1)
