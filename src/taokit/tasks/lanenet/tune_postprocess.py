"""`tao lanenet tune_postprocess`: search the lane clustering for the best TuSimple accuracy, no retraining.

The network runs once over the validation images; its lane probabilities and, where any candidate's binary
threshold could pass, its embeddings (a few percent of the pixels) are kept as they are and re-clustered
for every candidate, so `evaluate` with the tuned spec gives the same accuracy: binary threshold, algorithm (mean-shift
bandwidth or DBSCAN eps / min samples), minimum lane pixels and the polynomial order. The spec's own
settings are candidate 0, so the result cannot be worse than what the spec gives. Ties go to fewer false
positives plus false negatives. Outputs: the train spec and an inference spec with the best
`postprocessing_config`, and every candidate's scores.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from taokit.engine.files import atomic_write_csv, atomic_write_text
from taokit.engine.progress import Progress
from taokit.requests import EvaluateRequest
from taokit.results import Table, TuningResult
from taokit.spec.write import to_prototext
from taokit.tasks.lanenet.evaluate import evaluation_samples, open_spec_runner
from taokit.tasks.lanenet.postprocess import predict_lanes
from taokit.tasks.lanenet.scoring import tusimple_truth
from taokit.tasks.lanenet.spec import LaneNetExperiment, LaneNetInferenceSpec
from taokit.tasks.lanenet.spec.model import PostprocessingConfig
from taokit.tasks.lanenet.training import eval_loader
from taokit.tasks.lanenet.tusimple_metric import TuSimpleAccumulator, TuSimpleScore

log = logging.getLogger("taokit.lanenet")
CANDIDATES = 24


@dataclass
class _Outputs:
    prob: list[np.ndarray] = field(default_factory=list)  # (H, W) at network size
    # (D, K) embeddings of the K pixels above the lowest candidate threshold, with their (ys, xs): clustering
    # reads no other pixel, so the dense map rebuilt from them clusters exactly as evaluate's does
    vectors: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    truth: list[tuple[list[list[float]], list[int], tuple[int, int]]] = field(default_factory=list)
    embedding_dim: int = 0

    def embedding(self, i: int) -> np.ndarray:
        ys, xs, vectors = self.vectors[i]
        dense = np.zeros((self.embedding_dim, *self.prob[i].shape), np.float32)
        dense[:, ys, xs] = vectors
        return dense


def _run_network(spec: LaneNetExperiment, request: EvaluateRequest, floor: float) -> _Outputs:
    runner = open_spec_runner(spec, request)
    try:
        samples = evaluation_samples(spec, request)
        loader = eval_loader(samples, spec, request.batch_size)
        outputs = _Outputs()
        for images, sizes, indices in Progress(len(loader), "network")(loader):
            prob, embedding = runner.predict(images.numpy().astype(np.float32) * (1.0 / 255.0))
            outputs.embedding_dim = embedding.shape[1]
            for i, index in enumerate(indices.tolist()):
                image_hw = (int(sizes[i][0]), int(sizes[i][1]))
                truth, rows = tusimple_truth(samples[index], image_hw, spec)
                ys, xs = np.nonzero(prob[i, 0] > floor)
                outputs.prob.append(np.asarray(prob[i, 0], np.float32))
                outputs.vectors.append((ys, xs, np.asarray(embedding[i][:, ys, xs], np.float32)))
                outputs.truth.append((truth, rows, image_hw))
    finally:
        runner.close()
    return outputs


def candidates(base: PostprocessingConfig, count: int, seed: int = 0) -> list[PostprocessingConfig]:
    """The spec's own settings first, then a seeded sample of the clustering space."""
    rng = np.random.default_rng(seed)
    out = [base]
    for _ in range(count):
        algorithm = str(rng.choice(["MEANSHIFT", "DBSCAN"]))
        out.append(base.model_copy(update={
            "binary_threshold": float(rng.choice([0.3, 0.4, 0.5, 0.6, 0.7])),
            "clustering_algorithm": algorithm,
            "meanshift_bandwidth": float(rng.choice([0.75, 1.0, 1.25, 1.5, 2.0])),
            "dbscan_eps": float(rng.choice([0.2, 0.3, 0.4, 0.5, 0.7])),
            "dbscan_min_samples": int(rng.choice([3, 5, 10, 20])),
            "min_lane_pixels": int(rng.choice([25, 50, 100, 200])),
            "fit_order": int(rng.choice([0, 2, 3])),
        }))
    return out


def _score(outputs: _Outputs, config: PostprocessingConfig, anchor_stride: int) -> TuSimpleScore:
    scores = TuSimpleAccumulator(time_limit_ms=0.0)  # the accuracy evaluate reports first: no time rule
    for i, (prob, (truth, rows, image_hw)) in enumerate(zip(outputs.prob, outputs.truth, strict=True)):
        lanes = predict_lanes(prob, outputs.embedding(i), image_hw, rows, config, anchor_stride)
        scores.add([list(lane.xs) for lane in lanes], truth, rows, 0.0)
    return scores.score()


def _describe(c: PostprocessingConfig) -> str:
    cluster = (f"bandwidth={c.meanshift_bandwidth}" if c.clustering_algorithm == "MEANSHIFT"
               else f"eps={c.dbscan_eps} min={c.dbscan_min_samples}")
    return (f"{c.clustering_algorithm} {cluster} threshold={c.binary_threshold} min_pixels={c.min_lane_pixels} "
            f"fit={c.fit_order}")


def tune_postprocess(spec: LaneNetExperiment, request: EvaluateRequest) -> TuningResult:
    pool = candidates(spec.postprocessing_config, CANDIDATES, seed=spec.random_seed)
    outputs = _run_network(spec, request, floor=min(c.binary_threshold for c in pool))
    rows: list[list[object]] = []
    scored: list[tuple[TuSimpleScore, int]] = []
    for k in Progress(len(pool), "candidates")(range(len(pool))):
        score = _score(outputs, pool[k], spec.model_config_.anchor_stride)
        scored.append((score, k))
        rows.append([k, f"{score.accuracy:.4f}", f"{score.fp:.4f}", f"{score.fn:.4f}", _describe(pool[k])])
    before = scored[0][0]
    after, best = max(scored, key=lambda sk: (sk[0].accuracy, -(sk[0].fp + sk[0].fn), -sk[1]))
    return _write(request, spec, pool[best], before, after, rows)


def _write(request: EvaluateRequest, spec: LaneNetExperiment, best: PostprocessingConfig, before: TuSimpleScore,
           after: TuSimpleScore, rows: list[list[object]]) -> TuningResult:
    out = Path(request.results_dir or ".")
    out.mkdir(parents=True, exist_ok=True)
    tuned = spec.model_copy(update={"postprocessing_config": best})  # marked as set, so it is written out
    inference = LaneNetInferenceSpec.model_validate({
        "inferencer_config": {"model_path": str(request.model_path),
                              "batch_size": request.batch_size or spec.evaluation_config.batch_size
                              or spec.train_config.batch_size,  # evaluate's batches: the same numbers
                              "anchor_stride": spec.model_config_.anchor_stride},
        "postprocessing_config": best.model_dump(mode="json")})
    atomic_write_text(out / "spec.txt", to_prototext(tuned))
    atomic_write_text(out / "inference_spec.txt", to_prototext(inference))
    atomic_write_csv(out / "postprocess_search.csv", [["candidate", "tusimple_accuracy", "fp", "fn", "postprocessing"],
                                                      *rows])
    table = Table(f"lane post-processing search ({len(rows)} candidates, TuSimple)", ["", "accuracy", "FP", "FN",
                                                                                    "post-processing"],
                  [["before", before.accuracy, before.fp, before.fn, _describe(spec.postprocessing_config)],
                   ["after", after.accuracy, after.fp, after.fn, _describe(best)]])
    return TuningResult(metric="TuSimple accuracy", before=before.accuracy, after=after.accuracy,
                        lines=[f"TuSimple accuracy {before.accuracy:.4f} -> {after.accuracy:.4f}",
                         f"train spec with the best post-processing: {out / 'spec.txt'}",
                         f"inference spec: {out / 'inference_spec.txt'}",
                         f"every candidate: {out / 'postprocess_search.csv'}"],
                  tables=[table], data={"tusimple_accuracy_before": before.accuracy,
                                        "tusimple_accuracy_after": after.accuracy})
