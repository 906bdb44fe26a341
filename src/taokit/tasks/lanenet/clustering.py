"""Clustering lane pixels in embedding space (outside the network graph): DBSCAN and mean-shift.

Both run on at most `max_points` pixels (a seeded subsample); the other pixels join the cluster whose
centre is nearest, if it is within the clustering radius. Labels: -1 = noise, 0..K-1 = clusters.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist


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


def mean_shift(points: np.ndarray, bandwidth: float, min_samples: int, max_iterations: int = 30,
               max_clusters: int = 16) -> np.ndarray:
    """The paper's procedure: shift the densest seed to its mode (flat kernel), take every point within the
    bandwidth of the mode as one lane, remove them, repeat until no seed has `min_samples` neighbours."""
    labels = np.full(len(points), -1, np.int64)
    remaining = np.arange(len(points))
    cluster = 0
    while len(remaining) >= min_samples and cluster < max_clusters:
        left = points[remaining]
        step = max(1, len(left) // 64)  # 64 spread-out candidates are enough to find a dense seed
        density = (cdist(left[::step], left) < bandwidth).sum(axis=1)
        if density.max() < min_samples:
            break  # what is left is noise
        seed = int(np.argmax(density)) * step
        centre = left[seed]
        for _ in range(max_iterations):
            shifted = left[np.linalg.norm(left - centre, axis=1) < bandwidth].mean(axis=0)
            moved = np.linalg.norm(shifted - centre)
            centre = shifted
            if moved < 1e-3 * bandwidth:
                break
        inside = np.linalg.norm(left - centre, axis=1) < bandwidth
        if inside.sum() >= min_samples:
            labels[remaining[inside]] = cluster
            cluster += 1
        inside[seed] = True  # always make progress
        remaining = remaining[~inside]
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
