"""The alternative to retrieval, for comparison: a multi-hypothesis head on frozen scene features.

A small MLP (scene features -> 256 -> H casts and H ranking logits) trained on a
category's TRAINING photos with the winner-takes-all loss of Multiple Choice Learning
(Guzman-Rivera et al. 2012; relaxed as in Rupprecht et al. 2017: the winner gets weight
1 - eps, the others eps / (H - 1), so no hypothesis starves) on the squared cast error; the
logits learn, by cross-entropy, which hypothesis wins. Ranked by those logits. Seconds on
a CPU from cached features (``train.suggest_features``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

EPOCHS = 60
EPS = 0.05


class CastHead(nn.Module):
    def __init__(self, dim: int, hypotheses: int, hidden: int = 256):
        super().__init__()
        self.h = hypotheses
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(0.2))
        self.casts = nn.Linear(hidden, 2 * hypotheses)
        self.logits = nn.Linear(hidden, hypotheses)

    def forward(self, x):
        z = self.body(x)
        return self.casts(z).view(-1, self.h, 2) * 20.0, self.logits(z)   # casts in a, b units (|cast| ~ 0-30)


def train_head(features: np.ndarray, casts: np.ndarray, hypotheses: int, seed: int = 0, epochs: int = EPOCHS):
    """-> predict(features (N, D)) -> (casts (N, H, 2), ranked by the head's logits)."""
    torch.manual_seed(seed)
    mu, sd = features.mean(0), features.std(0) + 1e-6
    x = torch.tensor((features - mu) / sd, dtype=torch.float32)
    y = torch.tensor(casts, dtype=torch.float32)
    head = CastHead(x.shape[1], hypotheses)
    opt = torch.optim.Adam(head.parameters(), 1e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        head.train()
        for idx in torch.randperm(len(x), generator=gen).split(128):
            pred, logits = head(x[idx])
            err = ((pred - y[idx, None]) ** 2).sum(-1)                       # (B, H)
            win = err.argmin(1)
            w = torch.full_like(err, EPS / max(1, hypotheses - 1))
            w[torch.arange(len(idx)), win] = 1 - EPS if hypotheses > 1 else 1.0
            loss = (w * err).sum(1).mean() + nn.functional.cross_entropy(logits, win)
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()

    def predict(feats: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            pred, logits = head(torch.tensor((feats - mu) / sd, dtype=torch.float32))
        order = torch.argsort(-logits, dim=1, stable=True)
        return torch.gather(pred, 1, order[..., None].expand(-1, -1, 2)).numpy().astype(np.float64)
    return predict
