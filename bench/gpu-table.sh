#!/usr/bin/env bash
# The GPU table (docs/performance.md): on one NVIDIA GPU host, builds tfjs-node-gpu offline-style
# from the CUDA 12 wheels, times the three bench:compare cases against CUDA PyTorch, runs the demo
# end to end on the GPU, and samples nvidia-smi's memory per process meanwhile. Writes
# bench/results/gpu-<card>-<date>.json (and the raw pieces beside it in $OUT or /tmp/gpu-table).
#
#   bash bench/gpu-table.sh            # from the repository root; needs a package index for pip
#
# Needs: an NVIDIA driver for CUDA 12, Node 20, Python 3 with pip, a C++ compiler and make.
# About 25 minutes on an H100 class card plus the wheel downloads (3.3 GB tfjs-node-gpu, ~5 GB torch).
#
#   bash bench/gpu-table.sh --torch-only DIR   # the CUDA PyTorch column alone
#
# For a GPU host with CUDA torch but no Node and no package index (so no tfjs-node-gpu): DIR holds
# the case configurations, written beforehand on a host with Node by
# `npm run -s bench:compare -- --device gpu --torch-configs DIR`. Times each case with both
# gStepDGrads settings and writes $OUT/gpu-torch-<card>-<date>.json (python3 must hold CUDA torch).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/gpu-table}"
mkdir -p "$out"
card="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
[ -n "$card" ] || { echo "gpu-table: nvidia-smi lists no GPU" >&2; exit 1; }
slug="$(echo "$card" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')"
date="$(date -u +%F)"
echo "[gpu-table] $card ($slug), results in $out"

if [ "${1:-}" = "--torch-only" ]; then
  configs="${2:?--torch-only needs the directory that bench:compare --torch-configs wrote}"
  [ -f "$configs/demo.json" ] || { echo "gpu-table: no $configs/demo.json (run bench:compare --torch-configs first)" >&2; exit 2; }
  python3 -c 'import torch; assert torch.cuda.is_available(), "python3 torch sees no CUDA device"'
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.csv"
  nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader -lms 250 \
    > "$out/smi.csv" 2>/dev/null &
  smi=$!
  trap 'kill $smi 2>/dev/null || true' EXIT
  # Warm-up and reps per case: cuDNN picks its algorithms in the first steps; the demo's steps are
  # short, so more of them.
  for spec in demo:60:10 search:20:5 derive:20:5; do
    IFS=: read -r c reps warm <<<"$spec"
    for g in frozen computed; do
      echo "[gpu-table] torch $c ($g D grads in the G step)"
      python3 bench/torch/gan_step.py --json "$(cat "$configs/$c.json")" --g-step-d-grads "$g" \
        --reps "$reps" --warmup "$warm" | tail -1 > "$out/torch-$c-$g.json"
    done
  done
  kill $smi 2>/dev/null || true
  python3 bench/torch/gpu_table.py "$out" "$date" "${GPU_TABLE_NOTE:-}" > "$out/gpu-torch-$slug-$date.json"
  echo "[gpu-table] $out/gpu-torch-$slug-$date.json"
  exit 0
fi

[ -d node_modules ] || npm ci
npm run setup:native -- --gpu 2>&1 | tee "$out/setup-native.log"
if [ ! -x .cache/torch/bin/python ]; then
  python3 -m venv .cache/torch
  .cache/torch/bin/pip install -q torch
fi
.cache/torch/bin/python -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"'

# nvidia-smi's per-process memory every 2 s while the rest runs.
nvidia-smi --query-compute-apps=timestamp,pid,process_name,used_memory --format=csv -l 2 \
  > "$out/nvidia-smi-apps.csv" 2>/dev/null &
smi=$!
trap 'kill $smi 2>/dev/null || true' EXIT

AUTOGAN_PYTHON=.cache/torch/bin/python npm run -s bench:compare -- --device gpu --case demo,search,derive \
  --rounds 3 > "$out/compare-gpu.json"

start=$(date +%s)
AUTOGAN_BACKEND=tensorflow-gpu node bin/autogan.js run pipelines/demo-mnist.yaml --embedded --json \
  > "$out/demo-result.json"
demo_seconds=$(( $(date +%s) - start ))
kill $smi 2>/dev/null || true

node - "$out" "$card" "$date" "$demo_seconds" > "bench/results/gpu-$slug-$date.json" <<'EOF'
const fs = require('fs');
const path = require('path');
const [out, card, date, demoSeconds] = process.argv.slice(2);
const compare = JSON.parse(fs.readFileSync(path.join(out, 'compare-gpu.json'), 'utf8'));
const demo = JSON.parse(fs.readFileSync(path.join(out, 'demo-result.json'), 'utf8'));
// Peak memory per process name over the run (MiB), from nvidia-smi's samples.
const peak = {};
for (const line of fs.readFileSync(path.join(out, 'nvidia-smi-apps.csv'), 'utf8').split('\n').slice(1)) {
  const [, pid, name, mem] = line.split(',').map((s) => s && s.trim());
  const mib = parseInt(mem, 10);
  if (!pid || !Number.isFinite(mib)) continue;
  const key = `${name} (pid ${pid})`;
  peak[key] = Math.max(peak[key] ?? 0, mib);
}
const winner = Object.values(demo.outputs ?? {}).find((o) => o && o.winner)?.winner ?? null;
console.log(JSON.stringify({
  benchmark: 'gpu-table', date, card, command: 'bash bench/gpu-table.sh',
  compare: compare.cases.map((c) => ({ case: c.case, ours: { d: c.ours.dMedian, g: c.ours.gMedian },
    pytorch: c.pytorch && { d: c.pytorch.dMedian, g: c.pytorch.gMedian }, ratio: c.ratio })),
  demo: { wallSeconds: Number(demoSeconds), winner },
  gpuMemoryPeakMiBByProcess: peak,
}, null, 2));
EOF
echo "[gpu-table] bench/results/gpu-$slug-$date.json"
