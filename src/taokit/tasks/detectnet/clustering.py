"""Per-class clustering of DetectNet_v2 candidate boxes: DBSCAN, NMS and HYBRID (tao.md §3.6).

TAO calls scikit-learn's DBSCAN on a precomputed 1 - IoU matrix with the coverages as sample
weights. sklearn is a heavy dependency for one call, and its per-point Python neighbourhood lists
are slow, so the same algorithm is written here on dense numpy matrices: core points from a
weighted neighbourhood sum, clusters as connected components of the core graph, and border points
given to the cluster sklearn would give them to. Tests check the partition against sklearn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.integer]
ConfidenceModel = Literal["aggregate_cov", "mean_cov"]
# TAO's inference keeps a cluster when confidence > threshold; its training-time evaluation drops
# it when confidence < threshold. The two differ only at equality, but mAP parity needs both.
ConfidenceRule = Literal["inference", "evaluation"]


@dataclass(frozen=True)
class ClusteredBoxes:
    """Output boxes (M, 4) in pixels and their confidences (M,), highest confidence first."""

    boxes: FloatArray
    confidences: FloatArray

    def __len__(self) -> int:
        return len(self.confidences)

    @classmethod
    def empty(cls) -> ClusteredBoxes:
        return cls(np.zeros((0, 4)), np.zeros(0))

    def sorted(self) -> ClusteredBoxes:
        order = np.argsort(-self.confidences, kind="stable")
        return ClusteredBoxes(self.boxes[order], self.confidences[order])


def _pairwise_intersection(boxes: FloatArray, plus_one: float) -> FloatArray:
    """Intersection areas (K, K); in-place steps, since these K x K passes dominate clustering time."""
    x1, y1, x2, y2 = boxes.T
    inter = np.minimum(x2[:, None], x2)
    inter -= np.maximum(x1[:, None], x1)
    height = np.minimum(y2[:, None], y2)
    height -= np.maximum(y1[:, None], y1)
    if plus_one:
        inter += plus_one
        height += plus_one
    np.maximum(inter, 0.0, out=inter)
    np.maximum(height, 0.0, out=height)
    inter *= height
    return inter


def _iou_from_intersection(inter: FloatArray, area: FloatArray, denominator_eps: float) -> FloatArray:
    union = np.add(area[:, None], area)
    union -= inter
    if denominator_eps:
        union += denominator_eps
    return np.divide(inter, union, out=inter)


def iou_matrix(boxes: FloatArray) -> FloatArray:
    """Pairwise IoU (K, K) as TAO's DBSCAN sees it: continuous areas, +1e-5 in the denominator."""
    boxes = np.asarray(boxes, dtype=np.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return _iou_from_intersection(_pairwise_intersection(boxes, 0.0), area, 1e-5)


def nms_iou_matrix(boxes: FloatArray) -> FloatArray:
    """Pairwise IoU (K, K) with the "+1 pixel" convention of TAO's NMS (a box spans x1..x2 inclusive)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    area = (boxes[:, 2] - boxes[:, 0] + 1.0) * (boxes[:, 3] - boxes[:, 1] + 1.0)
    return _iou_from_intersection(_pairwise_intersection(boxes, 1.0), area, 0.0)


def dbscan_labels(distances: FloatArray, eps: float, min_samples: float,
                  sample_weight: FloatArray | None = None) -> IntArray:
    """sklearn's `DBSCAN(eps, min_samples, metric="precomputed").fit(D, sample_weight=w).labels_`.

    `distances` must be symmetric. A point's neighbourhood is every j with D[i, j] <= eps (itself
    only if D[i, i] <= eps); it is core when the weights of its neighbourhood sum to >= min_samples.
    Clusters are numbered by their lowest-index core point, and a border point joins the
    lowest-numbered cluster with a core point that has it as neighbour, exactly as sklearn's
    expansion order does. Noise is -1.
    """
    distances = np.asarray(distances)
    n = len(distances)
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    rows, cols = np.nonzero(distances <= eps)
    return _dbscan_from_neighbours(rows, cols, n, weight, min_samples)


def _dbscan_from_neighbours(rows: IntArray, cols: IntArray, n: int, weight: FloatArray,
                            min_samples: float) -> IntArray:
    """DBSCAN labels from the (row, col) pairs of the neighbourhood relation, sparse all the way."""
    labels = np.full(n, -1, dtype=np.intp)
    core = np.bincount(rows, weights=weight[cols], minlength=n) >= min_samples
    if not core.any():
        return labels
    core_core = core[rows] & core[cols]
    # rows come sorted from np.nonzero, so the CSR arrays can be built directly; the relation is
    # symmetric, so strong components are the undirected ones and scipy skips symmetrising it
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows[core_core], minlength=n), out=indptr[1:])
    edges = cols[core_core].astype(np.int32)
    graph = csr_matrix((np.ones(len(edges), dtype=np.int8), edges, indptr), shape=(n, n))
    _, comp = connected_components(graph, directed=True, connection="strong")
    core_idx = np.flatnonzero(core)
    # number clusters by their lowest core index, as sklearn's expansion order does
    roots, first = np.unique(comp[core_idx], return_index=True)
    rank = np.empty(comp.max() + 1, dtype=np.intp)
    rank[roots[np.argsort(first)]] = np.arange(len(roots))
    labels[core_idx] = rank[comp[core_idx]]
    to_border = core[rows] & ~core[cols]
    if to_border.any():
        reached = np.full(n, n, dtype=np.intp)
        np.minimum.at(reached, cols[to_border], labels[rows[to_border]])
        border = reached < n
        labels[border] = reached[border]
    return labels


def _passes(confidence: FloatArray, threshold: float, rule: ConfidenceRule) -> NDArray[np.bool_]:
    return confidence > threshold if rule == "inference" else confidence >= threshold


def _cluster_confidence(covs: FloatArray, labels: IntArray, n_clusters: int,
                        model: ConfidenceModel) -> tuple[FloatArray, FloatArray]:
    """Per-cluster coverage sum and the confidence under `model`."""
    total = np.bincount(labels, weights=covs, minlength=n_clusters)
    if model == "aggregate_cov":
        return total, total
    if model != "mean_cov":
        raise ValueError(f"unknown confidence_model '{model}' (expected aggregate_cov or mean_cov)")
    low = np.full(n_clusters, np.inf)
    high = np.full(n_clusters, -np.inf)
    np.minimum.at(low, labels, covs)
    np.maximum.at(high, labels, covs)
    mean = total / np.bincount(labels, minlength=n_clusters)
    span = high - low
    # TAO divides 0 by 0 here and the NaN silently fails every threshold. Members that all share one
    # coverage (saturated FP16/INT8 outputs, or a lone cell with coverage >= min_samples) are a real
    # detection, so such a cluster is given that shared coverage instead.
    ratio = np.clip(np.divide(mean - low, span, out=np.zeros(n_clusters), where=span > 0), 0.0, 1.0)
    return total, np.where(span > 0, ratio, high)


def _dbscan(boxes: FloatArray, covs: FloatArray, config: ClusteringConfig, model: ConfidenceModel,
            rule: ConfidenceRule) -> tuple[ClusteredBoxes, IntArray, NDArray[np.bool_]]:
    """Surviving clusters, the candidate labels, and which cluster ids survived (for HYBRID)."""
    min_samples = max(int(config.dbscan_min_samples), 1)
    distances = iou_matrix(boxes)
    np.subtract(1.0, distances, out=distances)
    rows, cols = np.nonzero(distances <= config.dbscan_eps)
    labels = _dbscan_from_neighbours(rows, cols, len(covs), covs, min_samples)
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    members = labels >= 0
    lab, w, b = labels[members], covs[members], boxes[members]
    total, confidence = _cluster_confidence(w, lab, n_clusters, model)
    mean_box = np.stack([np.bincount(lab, weights=w * b[:, k], minlength=n_clusters) for k in range(4)],
                        axis=1) / total[:, None]
    height = mean_box[:, 3] - mean_box[:, 1]
    keep = (height > config.minimum_bounding_box_height) & _passes(
        confidence, config.dbscan_confidence_threshold, rule)
    return ClusteredBoxes(mean_box[keep], confidence[keep]), labels, keep


def greedy_nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> IntArray:
    """Indices kept by classic greedy NMS (highest score first, suppress IoU > threshold, +1 px IoU).

    Suppressed boxes never suppress others, which is what TAO's score-zeroing loop amounts to.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    suppresses = nms_iou_matrix(np.asarray(boxes)[order]) > iou_threshold
    alive = np.ones(len(order), dtype=bool)
    kept = []
    for i in range(len(order)):
        if alive[i]:
            kept.append(i)
            alive[i + 1:] &= ~suppresses[i, i + 1:]
    return order[np.asarray(kept, dtype=np.intp)]


def vote_boxes(boxes: FloatArray, covs: FloatArray, kept: IntArray, iou_threshold: float) -> FloatArray:
    """Each kept box as the coverage-squared-weighted mean of the candidates overlapping it by >= the IoU.

    Squared, so that the kept cell, the peak, still leads its weaker neighbours; its own box is always a voter.
    """
    iou = iou_matrix(boxes)[kept]  # K x K, as greedy_nms already paid for: simpler than a kept x K copy
    weights = (iou >= iou_threshold) * covs**2
    weights[np.arange(len(kept)), kept] = covs[kept] ** 2
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights @ boxes, total, out=boxes[kept], where=total > 0)


def cluster_nms(boxes: FloatArray, covs: FloatArray, config: ClusteringConfig) -> ClusteredBoxes:
    """NMS over raw candidates; keep score > nms_confidence_threshold and height > minimum height.

    Boxes at or below the confidence threshold are dropped before NMS: they could only suppress
    boxes scored lower still, which the threshold drops anyway, so the result is the same. The
    height filter runs after NMS ("after clustering" in TAO's words), so a short box still
    suppresses its overlaps. With nms_box_voting_iou (taokit) the kept boxes are voted, then filtered.
    """
    strong = covs > config.nms_confidence_threshold
    boxes, covs = boxes[strong], covs[strong]
    kept = greedy_nms(boxes, covs, config.nms_iou_threshold)
    if config.nms_box_voting_iou > 0 and len(kept):
        boxes, covs = vote_boxes(boxes, covs, kept, config.nms_box_voting_iou), covs[kept]
    else:
        boxes, covs = boxes[kept], covs[kept]
    tall = boxes[:, 3] - boxes[:, 1] > config.minimum_bounding_box_height
    return ClusteredBoxes(boxes[tall], covs[tall])


def cluster_dbscan(boxes: FloatArray, covs: FloatArray, config: ClusteringConfig,
                   confidence_model: ConfidenceModel = "aggregate_cov",
                   confidence_rule: ConfidenceRule = "inference") -> ClusteredBoxes:
    """DBSCAN on 1 - IoU weighted by coverage; one coverage-weighted mean box per surviving cluster.

    Because the weights are coverages, dbscan_min_samples is a minimum cumulative coverage: with
    the usual value 1, a cluster needs a core cell whose neighbourhood coverages sum to >= 1.
    """
    return _dbscan(boxes, covs, config, confidence_model, confidence_rule)[0]


def cluster_hybrid(boxes: FloatArray, covs: FloatArray, config: ClusteringConfig,
                   confidence_model: ConfidenceModel = "aggregate_cov",
                   confidence_rule: ConfidenceRule = "inference") -> ClusteredBoxes:
    """DBSCAN picks the clusters, NMS picks the boxes: TAO's `cluster_with_hybrid`.

    Clusters are filtered as in DBSCAN mode (minimum height and dbscan_confidence_threshold on the
    cluster's confidence); the raw candidate boxes of every surviving cluster are then pooled and
    run through NMS mode, so outputs are raw cell boxes with their raw coverage as confidence.
    """
    _, labels, keep = _dbscan(boxes, covs, config, confidence_model, confidence_rule)
    members = labels >= 0
    members[members] = keep[labels[members]]
    return cluster_nms(boxes[members], covs[members], config)


def cluster(boxes: FloatArray, covs: FloatArray, config: ClusteringConfig,
            confidence_model: ConfidenceModel = "aggregate_cov",
            confidence_rule: ConfidenceRule = "inference") -> ClusteredBoxes:
    """Cluster one class's candidates of one image with config.clustering_algorithm, best first."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    covs = np.asarray(covs, dtype=np.float64).reshape(-1)
    if len(covs) == 0:
        return ClusteredBoxes.empty()
    algorithm = config.clustering_algorithm
    if algorithm == "NMS":
        result = cluster_nms(boxes, covs, config)
    elif algorithm == "HYBRID":
        result = cluster_hybrid(boxes, covs, config, confidence_model, confidence_rule)
    else:
        result = cluster_dbscan(boxes, covs, config, confidence_model, confidence_rule)
    return result.sorted()
