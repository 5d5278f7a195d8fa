"""PyTorch reference for bench/wasm-train.ts: training-step throughput of the
same VAEs (FIDLE MNIST VAE, and the 64x64x3 faces VAE) on the CPU.

Prints one JSON object on stdout: {"torch": version, "threads": n,
"results": {"mnist": {"64": img_per_s, "128": ...}, "faces": {...}}}.
Usage: python3 bench/torch_vae.py [--models mnist,faces] [--batches 64,128]
       [--warmup SECONDS] [--seconds SECONDS]
"""
import argparse
import json
import os
import time

# Must be set before torch loads OpenBLAS: torch's own pool provides the threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

THREADS = 2


class MnistVae(nn.Module):
    """28x28x1, latent 2. 'same' padding as in Keras (output_padding for stride-2 deconvs)."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 16), nn.ReLU(),
        )
        self.z_mean = nn.Linear(16, 2)
        self.z_log_var = nn.Linear(16, 2)
        self.dec_in = nn.Sequential(nn.Linear(2, 7 * 7 * 64), nn.ReLU())
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 3, 1, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 64, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, 1, 1),
        )
        self.start = (64, 7, 7)

    def forward(self, x):
        h = self.enc(x)
        return self.z_mean(h), self.z_log_var(h)

    def decode(self, z):
        return self.dec(self.dec_in(z).view(-1, *self.start))


class FacesVae(nn.Module):
    """The shipped faces VAE: 64x64x3, four 4x4 stride-2 convs 32/64/128/128, latent 64, mirrored decoder, no batch norm."""

    def __init__(self, widths=(32, 64, 128, 128), latent=64):
        super().__init__()
        layers, cin = [], 3
        for w in widths:
            layers += [nn.Conv2d(cin, w, 4, 2, 1), nn.ReLU()]
            cin = w
        self.enc = nn.Sequential(*layers, nn.Flatten())
        self.z_mean = nn.Linear(4 * 4 * widths[-1], latent)
        self.z_log_var = nn.Linear(4 * 4 * widths[-1], latent)
        self.dec_in = nn.Sequential(nn.Linear(latent, 4 * 4 * widths[-1]), nn.ReLU())
        layers, cin = [], widths[-1]
        for w in reversed(widths):
            layers += [nn.ConvTranspose2d(cin, w, 4, 2, 1), nn.ReLU()]
            cin = w
        self.dec = nn.Sequential(*layers, nn.ConvTranspose2d(cin, 3, 3, 1, 1))
        self.start = (widths[-1], 4, 4)

    def forward(self, x):
        h = self.enc(x)
        return self.z_mean(h), self.z_log_var(h)

    def decode(self, z):
        return self.dec(self.dec_in(z).view(-1, *self.start))


MODELS = {"mnist": (MnistVae, (1, 28, 28)), "faces": (FacesVae, (3, 64, 64))}


def images_per_second(name, batch, warmup, seconds):
    """Times forward + backward + Adam on a fixed batch for about `seconds`."""
    torch.manual_seed(0)
    cls, shape = MODELS[name]
    model = cls()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, *shape).round()

    def step():
        opt.zero_grad(set_to_none=True)
        mean, log_var = model(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = model.decode(z)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = -0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum(1)
        loss = (rec + kl).mean()
        loss.backward()
        opt.step()

    end = time.perf_counter() + warmup
    step()
    while time.perf_counter() < end:
        step()
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return batch * steps / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="mnist,faces")
    p.add_argument("--batches", default="64,128")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--seconds", type=float, default=3.0)
    a = p.parse_args()
    torch.set_num_threads(THREADS)
    results = {}
    for name in a.models.split(","):
        results[name] = {
            b: round(images_per_second(name, int(b), a.warmup, a.seconds), 1) for b in a.batches.split(",")
        }
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
