# Peer timing: one training step of `hessian run ising`'s posterior network (the exponential-family head, METHOD §8),
# the same work as `hessian bench posterior`: bundles of 4 Ising L x L states, 3x3 circular conv (1 -> C) + ReLU summed
# over sites and members, a 2-output readout, logits = <stat, u_k> - gain * (Bg c)_k + prior, soft cross-entropy, Adam.
# Usage: posterior_step_torch.py [THREADS] [DEVICE] [L]   (DEVICE: cpu (default), cuda or cuda:N; L default 64)
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
dev = torch.device(sys.argv[2] if len(sys.argv) > 2 else "cpu")
L = int(sys.argv[3]) if len(sys.argv) > 3 else 64
B, KB, C, K, M = 128, 4, 32, 24, 24
torch.manual_seed(0)
torch.set_default_device(dev)
conv = torch.nn.Conv2d(1, C, 3, padding=1, padding_mode="circular")
readout = torch.nn.Linear(C, 2, bias=False)
coef = torch.nn.Parameter(torch.zeros(M * M, 1))
u = torch.rand(K * K, 2) * 2 - 1                       # cell centres in [-1, 1]^2 (timing only: values do not matter)
bg = torch.rand(K * K, M * M) * (torch.rand(K * K, M * M) < 16 / (M * M))  # ~16 basis weights per cell, stored dense as ours
prior = torch.zeros(K * K)
gain = KB * L * L
params = list(conv.parameters()) + list(readout.parameters()) + [coef]
opt = torch.optim.Adam(params, 2e-3)
x = (torch.randint(0, 2, (B, KB, L, L)) * 2 - 1).float()
y = torch.nn.functional.one_hot(torch.randint(0, K * K, (B,)), K * K).float()
def step():
    opt.zero_grad()
    f = torch.relu(conv(x.reshape(B * KB, 1, L, L))).sum((2, 3)).reshape(B, KB, C)   # [B, KB, C]
    stat = readout(f.sum(1))                                                            # [B, 2]
    logits = stat @ u.T - gain * (bg @ coef).reshape(-1) + prior
    loss = -(y * torch.log_softmax(logits, -1)).sum() / B
    loss.backward(); opt.step(); return loss.item()
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
for _ in range(3): step()
sync(); n = 10 if dev.type == "cpu" else 100; t0 = time.perf_counter()
for _ in range(n): step()
sync(); dt = (time.perf_counter() - t0) / n
print(f"posterior_step_torch L={L} B={B} KB={KB} C={C} K={K} device={dev} threads={torch.get_num_threads()}: {dt*1000:.2f} ms/step")
