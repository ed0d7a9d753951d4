#!/usr/bin/env bash
# The device comparison, one command, on a machine with an NVIDIA GPU and its driver (no .NET SDK needed):
#   tar xJf hessian-gpu-bench.tar.xz && hessian-gpu-bench/bench-gpu.sh [--full]
# Runs ours on cpu and cuda and the PyTorch peers on cpu and cuda (when python3 has torch with CUDA; otherwise the
# peer lines say why not), for the paper's psi step (MLP 2 -> 4 x 512 -> 1, 64 x 64 grid, batch 128) and one
# posterior-network training step on Ising L = 64 (run ising's exponential-family head; an epoch of 24 000 rows is
# 150 steps), and prints the ratios. --full also times a paper-scale run: hessian run ising --size 64
# --samples 100000 --device cuda. Everything it prints is also written to bench-gpu.log beside it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
H="$here/hessian"
export HESSIAN_PEERS="$here/peers"
export HESSIAN_PEER_PYTHON=${HESSIAN_PEER_PYTHON:-$(command -v python3 || echo python3)}
threads=$(nproc)
exec > >(tee "$here/bench-gpu.log") 2>&1

echo "machine: $(nproc) cores; GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not found')"
ms() { grep -oE "$1 +[0-9.]+ ms" | head -1 | grep -oE '[0-9.]+ ms' | grep -oE '[0-9.]+'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo; echo "== psi step (ours vs PyTorch on the same device)"
psi_cpu=$("$H" bench psi-step --steps 5 --peer-threads "$threads" --device cpu 2>/dev/null); echo "$psi_cpu"
psi_gpu=$("$H" bench psi-step --steps 50 --device cuda 2>/dev/null); echo "$psi_gpu"

echo; echo "== posterior step, Ising L = 64 (ours)"
post_cpu=$("$H" bench posterior --size 64 --steps 20 --device cpu 2>/dev/null); echo "$post_cpu"
post_gpu=$("$H" bench posterior --size 64 --steps 200 --device cuda 2>/dev/null); echo "$post_gpu"
echo "== posterior step, Ising L = 64 (PyTorch peer)"
peer_cpu=$("$HESSIAN_PEER_PYTHON" "$here/peers/posterior_step_torch.py" "$threads" cpu 64 2>&1 | tail -1); echo "$peer_cpu"
peer_gpu=$("$HESSIAN_PEER_PYTHON" "$here/peers/posterior_step_torch.py" "$threads" cuda 64 2>&1 | tail -1); echo "$peer_gpu"

ours_psi_cpu=$(echo "$psi_cpu" | ms hessianml:); ours_psi_gpu=$(echo "$psi_gpu" | ms hessianml:)
torch_psi_cpu=$(echo "$psi_cpu" | ms pytorch:); torch_psi_gpu=$(echo "$psi_gpu" | ms pytorch:)
ours_post_cpu=$(echo "$post_cpu" | grep -oE 'total [0-9.]+ ms' | grep -oE '[0-9.]+')
ours_post_gpu=$(echo "$post_gpu" | grep -oE 'total [0-9.]+ ms' | grep -oE '[0-9.]+')
torch_post_cpu=$(echo "$peer_cpu" | grep -oE '[0-9.]+ ms/step' | grep -oE '[0-9.]+')
torch_post_gpu=$(echo "$peer_gpu" | grep -oE '[0-9.]+ ms/step' | grep -oE '[0-9.]+')

echo; echo "== summary (ms per step; ratio < 1: ours faster; the goal on the GPU is ours / torch <= 1.5)"
printf '%-28s %10s %10s %10s %10s %14s %14s\n' what ours-cpu ours-cuda torch-cpu torch-cuda "ours cpu/cuda" "ours/torch cuda"
printf '%-28s %10s %10s %10s %10s %14s %14s\n' "psi step" "${ours_psi_cpu:-n/a}" "${ours_psi_gpu:-n/a}" "${torch_psi_cpu:-n/a}" "${torch_psi_gpu:-n/a}" \
  "$(ratio "$ours_psi_cpu" "$ours_psi_gpu")" "$(ratio "$ours_psi_gpu" "$torch_psi_gpu")"
printf '%-28s %10s %10s %10s %10s %14s %14s\n' "posterior step L=64" "${ours_post_cpu:-n/a}" "${ours_post_gpu:-n/a}" "${torch_post_cpu:-n/a}" "${torch_post_gpu:-n/a}" \
  "$(ratio "$ours_post_cpu" "$ours_post_gpu")" "$(ratio "$ours_post_gpu" "$torch_post_gpu")"

if [ "${1:-}" = "--full" ]; then
  echo; echo "== paper-scale run: Ising L = 64, 100 000 samples, on cuda"
  start=$(date +%s)
  "$H" run ising --size 64 --samples 100000 --device cuda --out "$here/runs/ising-64" 2>&1 | tail -25
  echo "wall: $(( $(date +%s) - start )) s"
fi
