"""Clustering: our DBSCAN partitions like sklearn's, and NMS / HYBRID / confidences follow TAO."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from taokit.tasks.detectnet.clustering import (
    cluster,
    dbscan_labels,
    greedy_nms,
    iou_matrix,
    nms_iou_matrix,
)
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig


def _same_partition(ours: np.ndarray, theirs: np.ndarray) -> bool:
    """Equal noise sets and a one-to-one label mapping between the clusters."""
    if not np.array_equal(ours < 0, theirs < 0):
        return False
    pairs = set(zip(ours[ours >= 0].tolist(), theirs[theirs >= 0].tolist(), strict=True))
    return len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


def _candidate_boxes(rng: np.random.Generator) -> np.ndarray:
    """Jittered boxes around a few objects plus stray boxes, like one class of one frame."""
    objects = rng.integers(1, 6)
    boxes = []
    for _ in range(objects):
        x, y = rng.uniform(0, 400, 2)
        w, h = rng.uniform(10, 120, 2)
        n = rng.integers(1, 25)
        jitter = rng.normal(0, rng.uniform(0.5, 0.2 * min(w, h)), size=(n, 4))
        boxes.append(np.array([x, y, x + w, y + h]) + jitter)
    stray = rng.uniform(0, 400, size=(rng.integers(0, 10), 2))
    boxes.append(np.hstack([stray, stray + rng.uniform(0, 30, size=stray.shape)]))
    boxes = np.vstack(boxes)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
    return boxes


@pytest.mark.parametrize("seed", range(200))
def test_dbscan_partition_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes = _candidate_boxes(rng)
    weights = rng.uniform(0.005, 1.0, len(boxes))
    distances = 1.0 - iou_matrix(boxes)
    eps = float(rng.choice([0.05, 0.15, 0.2, 0.3, 0.5, 0.7]))
    min_samples = int(rng.choice([1, 1, 2, 3, 5]))
    expected = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(
        distances, sample_weight=weights).labels_
    ours = dbscan_labels(distances, eps, min_samples, weights)
    assert _same_partition(ours, expected), (eps, min_samples)
    unweighted = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(distances).labels_
    assert _same_partition(dbscan_labels(distances, eps, min_samples), unweighted)


@pytest.mark.parametrize("seed", range(30))
def test_dbscan_clusters_match_tao_with_sklearn(seed: int) -> None:
    """TAO's cluster_with_dbscan on sklearn labels, restated, gives the same boxes and confidences."""
    rng = np.random.default_rng(1000 + seed)
    boxes = _candidate_boxes(rng)
    covs = rng.uniform(0.005, 1.0, len(boxes))
    config = _config(dbscan_eps=0.25, dbscan_min_samples=int(rng.integers(1, 3)),
                     dbscan_confidence_threshold=0.5, minimum_bounding_box_height=15)
    labels = DBSCAN(eps=0.25, min_samples=config.dbscan_min_samples, metric="precomputed").fit(
        1.0 - iou_matrix(boxes), sample_weight=covs).labels_
    expected = []
    for label in np.unique(labels[labels >= 0]):
        w, b = covs[labels == label], boxes[labels == label]
        mean_box = (b * (w / w.sum())[:, None]).sum(axis=0)
        if mean_box[3] - mean_box[1] > 15 and w.sum() > 0.5:
            expected.append((w.sum(), *mean_box))
    expected.sort(key=lambda row: -row[0])
    result = cluster(boxes, covs, config)
    got = [(c, *b) for c, b in zip(result.confidences, result.boxes, strict=True)]
    np.testing.assert_allclose(np.reshape(got, (-1, 5)), np.reshape(expected, (-1, 5)), rtol=1e-12, atol=1e-9)


def test_border_point_joins_the_cluster_sklearn_gives_it() -> None:
    # 1-D points: cores 0,1 and 3,4; point 2 (neighbourhood weight 4.2 < 5) is a border of both.
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    weights = np.array([3.0, 2.0, 0.2, 2.0, 3.0])
    distances = np.abs(x[:, None] - x)
    expected = DBSCAN(eps=1.0, min_samples=5, metric="precomputed").fit(distances, sample_weight=weights).labels_
    ours = dbscan_labels(distances, 1.0, 5, weights)
    np.testing.assert_array_equal(ours, expected)
    assert ours[2] == ours[1] != ours[3]


def test_zero_area_boxes_are_not_their_own_neighbours() -> None:
    boxes = np.array([[5.0, 5.0, 5.0, 5.0], [0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.5]])
    distances = 1.0 - iou_matrix(boxes)
    assert distances[0, 0] == 1.0
    expected = DBSCAN(eps=0.2, min_samples=1, metric="precomputed").fit(distances).labels_
    np.testing.assert_array_equal(dbscan_labels(distances, 0.2, 1), expected)
    assert expected[0] == -1


def test_iou_conventions() -> None:
    a, b = [0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]
    assert iou_matrix(np.array([a, b]))[0, 1] == pytest.approx(50.0 / (150.0 + 1e-5), rel=1e-15)
    # +1 pixel: widths 11, overlap columns 5..10 = 6 -> 66 / (121 + 121 - 66)
    assert nms_iou_matrix(np.array([a, b]))[0, 1] == pytest.approx(66.0 / 176.0, rel=1e-15)


def _config(**kwargs: object) -> ClusteringConfig:
    base = {"minimum_bounding_box_height": 0, "dbscan_confidence_threshold": 0.0}
    return ClusteringConfig(**{**base, **kwargs})


def test_nms_hand_checked() -> None:
    boxes = np.array([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10], [40, 0, 50, 10]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.3])
    # IoU(0,1) = 77/165 > 0.3 -> 1 suppressed; IoU(0,2) = 33/209 kept; 1 would have suppressed 2,
    # but a suppressed box suppresses nothing.
    assert greedy_nms(boxes, scores, 0.3).tolist() == [0, 2, 3]
    result = cluster(boxes, scores, _config(clustering_algorithm="NMS", nms_iou_threshold=0.3,
                                            nms_confidence_threshold=0.3))
    assert result.boxes.tolist() == [[0, 0, 10, 10], [8, 0, 18, 10]]      # 0.3 is not > 0.3
    assert result.confidences.tolist() == [0.9, 0.7]


def test_box_voting_averages_the_kept_box_with_its_overlaps_by_coverage_squared() -> None:
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [4, 0, 14, 10], [40, 0, 50, 10]], dtype=float)
    scores = np.array([0.8, 0.4, 0.2, 0.3])
    # IoU(0,1) = 80/120 = 0.667, IoU(0,2) = 60/140 = 0.43: only box 1 votes with box 0 at 0.5;
    # NMS at 0.3 suppresses 1 and 2; box 3 overlaps nothing and keeps its own box.
    config = _config(clustering_algorithm="NMS", nms_iou_threshold=0.3, nms_box_voting_iou=0.5)
    result = cluster(boxes, scores, config)
    expected = (0.64 * boxes[0] + 0.16 * boxes[1]) / 0.8
    np.testing.assert_allclose(result.boxes, [expected, boxes[3]])
    assert result.confidences.tolist() == [0.8, 0.3]  # voting moves boxes, never scores
    off = cluster(boxes, scores, _config(clustering_algorithm="NMS", nms_iou_threshold=0.3))
    assert off.boxes.tolist() == [boxes[0].tolist(), boxes[3].tolist()]
    three = cluster(boxes, scores, _config(clustering_algorithm="NMS", nms_iou_threshold=0.3, nms_box_voting_iou=0.4))
    np.testing.assert_allclose(three.boxes[0], (0.64 * boxes[0] + 0.16 * boxes[1] + 0.04 * boxes[2]) / 0.84)


def test_box_voting_runs_before_the_height_filter_and_in_hybrid() -> None:
    boxes = np.array([[0, 0, 10, 9], [0, 0, 10, 13]], dtype=float)
    scores = np.array([0.9, 0.9])  # the voted box is 11 high, over the minimum of 10
    config = _config(clustering_algorithm="NMS", nms_iou_threshold=0.3, minimum_bounding_box_height=10,
                     nms_box_voting_iou=0.5)
    np.testing.assert_allclose(cluster(boxes, scores, config).boxes, [[0, 0, 10, 11]])
    hybrid = cluster(boxes, scores, config.model_copy(update={"clustering_algorithm": "HYBRID", "dbscan_eps": 0.5,
                                                              "dbscan_confidence_threshold": 0.0}))
    np.testing.assert_allclose(hybrid.boxes, [[0, 0, 10, 11]])


def test_nms_minimum_height_is_applied_after_suppression() -> None:
    short = [0.0, 0.0, 20.0, 10.0]
    tall = [0.0, 0.0, 20.0, 12.0]
    config = _config(clustering_algorithm="NMS", minimum_bounding_box_height=10, nms_iou_threshold=0.5)
    assert len(cluster(np.array([short, tall]), np.array([0.9, 0.8]), config)) == 0
    kept = cluster(np.array([short, tall]), np.array([0.7, 0.8]), config)
    assert kept.boxes.tolist() == [tall]


def test_dbscan_weighted_mean_and_aggregate_cov() -> None:
    boxes = np.array([[10, 10, 50, 90], [12, 10, 52, 94], [200, 0, 240, 60]], dtype=float)
    covs = np.array([0.75, 0.5, 1.0])
    result = cluster(boxes, covs, _config(dbscan_eps=0.3))
    assert result.confidences.tolist() == [1.25, 1.0]
    np.testing.assert_allclose(result.boxes[0], [10.8, 10, 50.8, 91.6], rtol=0, atol=1e-12)
    assert result.boxes[1].tolist() == [200, 0, 240, 60]


def test_mean_cov_and_its_degenerate_cases() -> None:
    boxes = np.array([[10, 10, 50, 90]] * 3 + [[200, 0, 240, 60]] + [[300, 0, 340, 60]] * 2, dtype=float)
    covs = np.array([0.2, 0.4, 0.9, 1.0, 0.6, 0.6])
    result = cluster(boxes, covs, _config(dbscan_eps=0.3), confidence_model="mean_cov")
    # (0.5 - 0.2) / (0.9 - 0.2); a single member and two equal members give their shared coverage
    # where TAO would compute 0 / 0
    np.testing.assert_allclose(sorted(result.confidences), [0.3 / 0.7, 0.6, 1.0], rtol=1e-12)


def test_minimum_height_and_dbscan_threshold_rules() -> None:
    boxes = np.array([[0, 0, 10, 20], [0, 0, 10, 20], [100, 0, 110, 21], [100, 0, 110, 21]], dtype=float)
    covs = np.array([0.75, 0.5, 0.75, 0.5])
    config = _config(minimum_bounding_box_height=20, dbscan_confidence_threshold=0.5)
    assert cluster(boxes, covs, config).boxes.tolist() == [[100, 0, 110, 21]]   # height 20 dropped
    at_threshold = _config(dbscan_confidence_threshold=1.25)
    assert len(cluster(boxes, covs, at_threshold, confidence_rule="inference")) == 0
    assert len(cluster(boxes, covs, at_threshold, confidence_rule="evaluation")) == 2


def test_min_samples_is_a_minimum_cumulative_coverage() -> None:
    boxes = np.array([[0, 0, 10, 20]] * 3 + [[100, 0, 110, 20]] * 2, dtype=float)
    covs = np.array([0.5, 0.4, 0.3, 0.6, 0.3])
    one = cluster(boxes, covs, _config(dbscan_min_samples=1))
    assert one.confidences.tolist() == [pytest.approx(1.2)]                 # 0.9 < 1 -> noise
    assert len(cluster(boxes, covs, _config(dbscan_min_samples=2))) == 0
    assert len(cluster(boxes, covs, _config(dbscan_min_samples=0))) == 1    # max(int(0), 1)


def test_hybrid_runs_nms_over_members_of_surviving_clusters() -> None:
    strong = np.array([[0, 0, 40, 80], [2, 0, 42, 82], [4, 2, 44, 84]], dtype=float)   # one object
    weak = np.array([[200, 0, 240, 80], [201, 0, 241, 80]], dtype=float)
    boxes = np.vstack([strong, weak])
    covs = np.array([0.6, 0.9, 0.5, 0.8, 0.3])
    config = _config(clustering_algorithm="HYBRID", dbscan_eps=0.3, dbscan_confidence_threshold=1.5,
                     nms_iou_threshold=0.3, nms_confidence_threshold=0.1)
    hybrid = cluster(boxes, covs, config)
    # DBSCAN drops the weak cluster (1.1 <= 1.5); NMS keeps the best raw box of the strong one
    assert hybrid.boxes.tolist() == [[2, 0, 42, 82]]
    assert hybrid.confidences.tolist() == [0.9]
    nms_only = cluster(boxes, covs, config.model_copy(update={"clustering_algorithm": "NMS"}))
    assert nms_only.confidences.tolist() == [0.9, 0.8]
    strict_nms = config.model_copy(update={"nms_confidence_threshold": 0.95})
    assert len(cluster(boxes, covs, strict_nms)) == 0
    no_cluster_survives = config.model_copy(update={"dbscan_confidence_threshold": 5.0})
    assert len(cluster(boxes, covs, no_cluster_survives)) == 0


def test_results_sorted_by_descending_confidence() -> None:
    rng = np.random.default_rng(3)
    boxes = _candidate_boxes(rng)
    covs = rng.uniform(0.01, 1.0, len(boxes))
    for algorithm in ("DBSCAN", "NMS", "HYBRID"):
        result = cluster(boxes, covs, _config(clustering_algorithm=algorithm, nms_confidence_threshold=0.0))
        assert len(result) > 0
        assert np.all(np.diff(result.confidences) <= 0)


@pytest.mark.parametrize("algorithm", ["DBSCAN", "NMS", "HYBRID"])
def test_no_candidates_gives_no_boxes(algorithm: str) -> None:
    result = cluster(np.zeros((0, 4)), np.zeros(0), _config(clustering_algorithm=algorithm))
    assert len(result) == 0 and result.boxes.shape == (0, 4)
