#!/usr/bin/env bash
# Builds what bench-gpu.sh needs on a GPU machine that has the NVIDIA driver but no .NET SDK: a self-contained,
# single-file, compressed `hessian` for linux-x64, the two PyTorch peers, and the script, in one tarball.
# Usage (on a machine with the .NET 10 SDK, from anywhere):  bench/gpu/pack.sh [OUT.tar.gz]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/out/hessian-gpu-bench.tar.gz}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/hessian-gpu-bench/peers"
# Not trimmed: ILGPU compiles kernels from the IL of our methods at run time and ML.NET loads components by
# reflection, both of which the trimmer cannot see. Compression makes the single file small instead.
dotnet publish "$root/src/HessianML.Cli" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -o "$stage/publish"
cp "$stage/publish/hessian" "$stage/hessian-gpu-bench/"
cp "$here/bench-gpu.sh" "$stage/hessian-gpu-bench/"
cp "$here/peers/posterior_step_torch.py" "$stage/hessian-gpu-bench/peers/"
shared_peers="$root/../shared/peers"
[ -f "$shared_peers/psi_step_torch.py" ] || shared_peers=/work/shared/peers
cp "$shared_peers/psi_step_torch.py" "$stage/hessian-gpu-bench/peers/"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -czf "$out" hessian-gpu-bench
ls -l "$out"
