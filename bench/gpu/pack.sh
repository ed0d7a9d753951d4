#!/usr/bin/env bash
# Builds what bench-gpu.sh needs on a GPU machine that has the NVIDIA driver but no .NET SDK: a self-contained,
# single-file `hessian` for linux-x64, the two PyTorch peers, and the script, in one xz tarball (40.5 MB when measured:
# xz over the plain single file packs better than the single file's own compression: 66 MB as .tar.gz before).
# Usage (on a machine with the .NET 10 SDK, from anywhere):  bench/gpu/pack.sh [OUT.tar.xz]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/out/hessian-gpu-bench.tar.xz}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/hessian-gpu-bench/peers"
# Not trimmed: ILGPU compiles kernels from the IL of our methods at run time and ML.NET loads components by
# reflection, both of which the trimmer cannot see. xz makes the package small instead.
dotnet publish "$root/src/HessianML.Cli" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -o "$stage/publish"
cp "$stage/publish/hessian" "$stage/hessian-gpu-bench/"
cp "$here/bench-gpu.sh" "$stage/hessian-gpu-bench/"
cp "$here/peers/posterior_step_torch.py" "$stage/hessian-gpu-bench/peers/"
shared_peers="$root/../shared/peers"
[ -f "$shared_peers/psi_step_torch.py" ] || shared_peers=/work/shared/peers
cp "$shared_peers/psi_step_torch.py" "$stage/hessian-gpu-bench/peers/"
mkdir -p "$(dirname "$out")"
XZ_OPT="-6 -T0" tar -C "$stage" -cJf "$out" hessian-gpu-bench
ls -l "$out"
