#!/usr/bin/env python3
"""Assembles the CUDA PyTorch column of the GPU table from what `bench/gpu-table.sh --torch-only`
left in a folder: gpu.csv (nvidia-smi's name, driver, memory), smi.csv (nvidia-smi's
per-process samples) and torch-<case>-<frozen|computed>.json (gan_step.py's documents). Prints one
JSON document.

  python3 bench/torch/gpu_table.py DIR DATE [NOTE]

NOTE, if given, is kept as the document's "note" (say why our side was not timed on that host).

The processes ran one after another in RUN_ORDER, so the n-th process id seen in smi.csv is the
n-th run: that is how each run gets its nvidia-smi peak (the CUDA context included, which
torch.cuda.max_memory_allocated leaves out).
"""

import json
import os
import sys

RUN_ORDER = [(c, g) for c in ("demo", "search", "derive") for g in ("frozen", "computed")]


def main(folder, date, note=None):
    name, driver, memory = [s.strip() for s in open(os.path.join(folder, "gpu.csv")).readline().split(",")]
    pids, peak = [], {}
    smi = os.path.join(folder, "smi.csv")
    for line in open(smi) if os.path.exists(smi) else []:
        parts = [s.strip() for s in line.split(",")]
        if len(parts) != 3 or not parts[2].endswith("MiB"):
            continue
        pid, mib = parts[0], int(parts[2].split()[0])
        if pid not in peak:
            pids.append(pid)
        peak[pid] = max(peak.get(pid, 0), mib)
    rows, torch_version = [], None
    for i, (case, grads) in enumerate(RUN_ORDER):
        doc = json.load(open(os.path.join(folder, f"torch-{case}-{grads}.json")))
        if "error" in doc:
            raise SystemExit(f"gpu_table: {case}/{grads} failed: {doc['error']}")
        torch_version = doc["torchVersion"]
        rows.append({
            "case": case,
            "gStepDGrads": grads,
            "dMs": round(doc["dMedian"] * 1e3, 2),
            "gMs": round(doc["gMedian"] * 1e3, 2),
            "reps": len(doc["dStepSeconds"]),
            "torchPeakAllocatedMiB": round(doc["gpuPeakBytes"] / 2**20),
            "nvidiaSmiPeakMiB": peak[pids[i]] if i < len(pids) else None,
            "hostPeakRssMiB": round(doc["peakRssBytes"] / 2**20),
        })
    print(json.dumps({
        "benchmark": "gpu-table",
        "mode": "torch-only",
        "date": date,
        "card": name,
        "driver": driver,
        "memory": memory,
        "pytorch": torch_version,
        "command": "npm run -s bench:compare -- --device gpu --torch-configs DIR (host with Node); "
                   "bash bench/gpu-table.sh --torch-only DIR (GPU host)",
        "timing": "median wall time of one step, synchronised by loss.item() (gan_step.py)",
        "ours": "not timed here: torch-only mode, for a GPU host without Node or tfjs-node-gpu",
        "note": note,
        "runs": rows,
    }, indent=2))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: gpu_table.py DIR DATE [NOTE]")
    main(*sys.argv[1:])
