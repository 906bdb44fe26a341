"""LaneNet's loss: weighted cross-entropy for lane/background plus the discriminative loss for embeddings.

Binary branch: ENet's bounded inverse class weighting, w_class = 1 / ln(c + p_class) with p the class's
share of the batch's pixels (c = 1.02), so the rare lane pixels weigh about 40x the background.
Embedding branch (De Brabandere et al. 2017): pull each lane's pixels to within delta_v of the lane's
mean, push lane means at least delta_d apart, and keep the means near the origin (reg).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from taokit.tasks.lanenet.spec.train import LossConfig


def class_weights(binary: torch.Tensor, c: float) -> torch.Tensor:
    """[w_background, w_lane] for a batch of 0/1 targets."""
    lane_share = binary.float().mean()
    shares = torch.stack([1.0 - lane_share, lane_share])
    return 1.0 / torch.log(c + shares)


def discriminative_loss(embedding: torch.Tensor, instances: torch.Tensor, config: LossConfig
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(variance, distance, regularisation) terms averaged over the images that have lanes.

    embedding: (N, D, H, W); instances: (N, H, W) with 0 = background and k = lane k.
    """
    n, d = embedding.shape[:2]
    zero = embedding.sum() * 0.0
    var_terms, dist_terms, reg_terms = [], [], []
    for i in range(n):
        labels = instances[i].reshape(-1).long()
        ids = torch.unique(labels)
        ids = ids[ids > 0]
        if len(ids) == 0:
            continue
        pixels = embedding[i].reshape(d, -1).t()  # (P, D)
        onehot = (labels.unsqueeze(0) == ids.unsqueeze(1)).float()  # (K, P)
        counts = onehot.sum(1, keepdim=True)
        means = onehot @ pixels / counts  # (K, D)
        distance = torch.cdist(pixels.unsqueeze(0), means.unsqueeze(0)).squeeze(0).t()  # (K, P)
        pull = (F.relu(distance - config.delta_v) ** 2 * onehot).sum(1) / counts.squeeze(1)
        var_terms.append(pull.mean())
        if len(ids) > 1:
            between = torch.cdist(means.unsqueeze(0), means.unsqueeze(0)).squeeze(0)
            off_diagonal = ~torch.eye(len(ids), dtype=torch.bool, device=between.device)
            push = F.relu(config.delta_d - between[off_diagonal]) ** 2
            dist_terms.append(push.mean())
        reg_terms.append(means.norm(dim=1).mean())

    def mean(terms: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(terms).mean() if terms else zero

    return mean(var_terms), mean(dist_terms), mean(reg_terms)


class LaneNetLoss:
    def __init__(self, config: LossConfig) -> None:
        self.config = config

    def __call__(self, logits: torch.Tensor, embedding: torch.Tensor, binary: torch.Tensor, instances: torch.Tensor
                 ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        c = self.config
        weights = class_weights(binary, c.class_weight_c).to(logits.dtype)
        binary_loss = F.cross_entropy(logits.float(), binary.long(), weight=weights.float())
        var, dist, reg = discriminative_loss(embedding.float(), instances, c)
        embedding_loss = c.var_weight * var + c.dist_weight * dist + c.reg_weight * reg
        total = c.binary_weight * binary_loss + c.embedding_weight * embedding_loss
        return total, {"binary": binary_loss.detach(), "var": var.detach(), "dist": dist.detach(),
                       "reg": reg.detach()}
