"""The semantic judge: a small 3D CNN that names a clip's semantic (all semantics, held-out ones included).

It sees the clip and its difference to the first frame, so motion and colour change are both explicit.
It is a judge, not part of the generator: the hypernetwork never trains against it.
"""

from __future__ import annotations

import torch
from torch import nn

from v2l.saved_model import SavedModel


def _block(cin: int, cout: int, stride: tuple[int, int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride=stride, padding=1), nn.GroupNorm(8, cout), nn.GELU())


class VideoJudge(SavedModel, nn.Module):
    WHAT = "judge"
    FIX = "train one with `v2l pretrain judge`"

    def __init__(self, classes: list[str], width: int = 32):
        super().__init__()
        self.classes, self.width = list(classes), width
        self.features = nn.Sequential(
            _block(6, width, (1, 2, 2)),
            _block(width, 2 * width, (1, 2, 2)),
            _block(2 * width, 4 * width, (2, 2, 2)),
            _block(4 * width, 4 * width, (2, 2, 2)),
        )
        self.head = nn.Linear(4 * width, len(self.classes))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """clips (B, 3, F, H, W) in [-1, 1] -> logits (B, classes)."""
        x = torch.cat([clips, clips - clips[:, :, :1]], dim=1)
        return self.head(self.features(x).mean(dim=(2, 3, 4)))

    @torch.no_grad()
    def probabilities(self, clips: torch.Tensor, batch: int = 64) -> torch.Tensor:
        self.eval()
        return torch.cat([self(clips[i : i + batch]).softmax(-1) for i in range(0, len(clips), batch)])

    def config(self) -> dict:
        return {"classes": self.classes, "width": self.width}
