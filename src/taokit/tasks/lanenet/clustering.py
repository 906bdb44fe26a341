"""Clustering lane pixels in embedding space (outside the network graph): DBSCAN and mean-shift.

Both run on at most `max_points` pixels (a seeded subsample); the other pixels join the cluster whose
centre is nearest, if it is within the clustering radius. Labels: -1 = noise, 0..K-1 = clusters.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def dbscan(points: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """Classic DBSCAN (Ester et al. 1996) with a k-d tree for the neighbourhood queries."""
    tree = cKDTree(points)
    core = tree.query_ball_point(points, eps, return_length=True) >= min_samples
    labels = np.full(len(points), -1, np.int64)
    cluster = 0
    for start in np.flatnonzero(core):
        if labels[start] != -1:
            continue
        labels[start] = cluster
        stack = [start]
        while stack:
            point = stack.pop()
            if not core[point]:
                continue
            for other in tree.query_ball_point(points[point], eps):
                if labels[other] == -1:
                    labels[other] = cluster
                    stack.append(other)
        cluster += 1
    return labels


def mean_shift(points: np.ndarray, bandwidth: float, min_samples: int, max_iterations: int = 50) -> np.ndarray:
    """The paper's procedure: shift a seed to its density mode (flat kernel), take every point within the
    bandwidth of the mode as one lane, remove them, repeat."""
    labels = np.full(len(points), -1, np.int64)
    remaining = np.arange(len(points))
    cluster = 0
    tree = cKDTree(points)
    while len(remaining):
        counts = np.array([len(n) for n in tree.query_ball_point(points[remaining[:256]], bandwidth)])
        centre = points[remaining[int(np.argmax(counts))]]  # the densest of the first seeds
        for _ in range(max_iterations):
            members = remaining[np.linalg.norm(points[remaining] - centre, axis=1) < bandwidth]
            shifted = points[members].mean(axis=0)
            done = np.linalg.norm(shifted - centre) < 1e-3 * bandwidth
            centre = shifted
            if done:
                break
        members = remaining[np.linalg.norm(points[remaining] - centre, axis=1) < bandwidth]
        if len(members) >= min_samples:
            labels[members] = cluster
            cluster += 1
        else:
            members = members if len(members) else remaining[:1]
        remaining = np.setdiff1d(remaining, members, assume_unique=True)
    return labels


def cluster_embeddings(embeddings: np.ndarray, algorithm: str, *, eps: float, min_samples: int, bandwidth: float,
                       max_points: int, seed: int = 0) -> np.ndarray:
    """Cluster labels for every row of `embeddings` (N, D)."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, np.int64)
    chosen = np.arange(n)
    if n > max_points:
        chosen = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    sample = embeddings[chosen]
    scale = max_points / n if n > max_points else 1.0
    if algorithm == "MEANSHIFT":
        sample_labels = mean_shift(sample, bandwidth, max(1, int(min_samples * scale)))
        radius = bandwidth
    else:
        sample_labels = dbscan(sample, eps, max(1, int(round(min_samples * scale))))
        radius = 2 * eps
    if len(chosen) == n:
        return sample_labels
    ids = np.unique(sample_labels[sample_labels >= 0])
    labels = np.full(n, -1, np.int64)
    if len(ids) == 0:
        return labels
    centres = np.stack([sample[sample_labels == k].mean(axis=0) for k in ids])
    distance, nearest = cKDTree(centres).query(embeddings)
    labels[distance < radius] = ids[nearest[distance < radius]]
    labels[chosen] = sample_labels
    return labels
