"""LaneNet's network, loss, clustering and lane extraction on tiny hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from taokit.tasks.lanenet.clustering import cluster_embeddings, dbscan, mean_shift
from taokit.tasks.lanenet.dataset import draw_targets
from taokit.tasks.lanenet.loss import LaneNetLoss, class_weights, discriminative_loss
from taokit.tasks.lanenet.model import LaneNetArch, LaneNetOutputs, build_lanenet
from taokit.tasks.lanenet.postprocess import predict_lanes
from taokit.tasks.lanenet.spec.model import PostprocessingConfig
from taokit.tasks.lanenet.spec.train import LossConfig


@pytest.mark.parametrize(("arch", "layers"), [("enet", 0), ("resnet", 18)])
def test_both_encoders_give_full_resolution_outputs(arch: str, layers: int) -> None:
    net = build_lanenet(LaneNetArch(arch, layers, ("lane",), (64, 128), embedding_dim=4))
    logits, embedding = net(torch.rand(2, 3, 64, 128))
    assert logits.shape == (2, 2, 64, 128) and embedding.shape == (2, 4, 64, 128)
    with torch.no_grad():
        prob, _ = LaneNetOutputs(net).eval()(torch.rand(1, 3, 64, 128))
    assert prob.shape == (1, 1, 64, 128) and float(prob.min()) >= 0 and float(prob.max()) <= 1


def test_bounded_inverse_class_weighting() -> None:
    binary = torch.zeros(100)
    binary[:2] = 1  # 2 % lane pixels
    w_background, w_lane = class_weights(binary, 1.02).tolist()
    assert w_background == pytest.approx(1 / np.log(1.02 + 0.98)) and w_lane == pytest.approx(1 / np.log(1.04))


def test_discriminative_loss_terms_by_hand() -> None:
    config = LossConfig(delta_v=0.5, delta_d=3.0)
    instances = torch.tensor([[[1, 1, 2, 2]]])  # one image, 1 x 4 pixels, two lanes
    # lane 1 at 0 and 2 (mean 1, each 1 away: pull (1 - 0.5)^2 = 0.25); lane 2 at 4 and 4 (mean 4, no pull)
    embedding = torch.tensor([[[[0.0, 2.0, 4.0, 4.0]]]])
    var, dist, reg = discriminative_loss(embedding, instances, config)
    assert var.item() == pytest.approx((0.25 + 0.0) / 2)
    assert dist.item() == pytest.approx((3.0 - 3.0) ** 2)  # means 1 and 4 are exactly delta_d apart
    assert reg.item() == pytest.approx((1.0 + 4.0) / 2)
    closer = torch.tensor([[[[0.0, 2.0, 2.0, 2.0]]]])  # means 1 and 2: push (3 - 1)^2 = 4
    assert discriminative_loss(closer, instances, config)[1].item() == pytest.approx(4.0)
    background_only = torch.zeros(1, 1, 4, dtype=torch.long)
    assert all(t.item() == 0 for t in discriminative_loss(embedding, background_only, config))


def test_the_loss_trains_a_network_to_separate_two_lanes() -> None:
    torch.manual_seed(0)
    lanes = [np.array([[10.0, 0], [12.0, 31]]), np.array([[40.0, 0], [50.0, 31]])]
    binary, instances = draw_targets(lanes, (32, 64), 2)
    net = build_lanenet(LaneNetArch("enet", 0, ("lane",), (32, 64)))
    loss_fn = LaneNetLoss(LossConfig())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    image = torch.zeros(1, 3, 32, 64)
    image[0, :, torch.from_numpy(binary).bool()] = 1.0
    first = None
    for _ in range(20):
        loss, terms = loss_fn(*net(image), torch.from_numpy(binary)[None], torch.from_numpy(instances)[None])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first and set(terms) == {"binary", "var", "dist", "reg"}


def test_clustering_finds_separated_blobs() -> None:
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(c, 0.1, (200, 4)) for c in (0.0, 3.0, 6.0)])
    for labels in (dbscan(blobs, 0.5, 5), mean_shift(blobs, 1.0, 5),
                   cluster_embeddings(blobs, "DBSCAN", eps=0.5, min_samples=5, bandwidth=1.0, max_points=150)):
        assert len(set(labels[:200])) == len(set(labels[200:400])) == len(set(labels[400:])) == 1
        assert len({labels[0], labels[200], labels[400]}) == 3 and -1 not in {labels[0], labels[200], labels[400]}


def test_lanes_are_sampled_at_the_rows_in_image_pixels() -> None:
    hw, image_hw = (32, 64), (320, 640)  # the image is 10x the network input
    prob = np.zeros(hw, np.float32)
    embedding = np.zeros((4, *hw), np.float32)
    prob[8:32, 10] = 1.0  # lane A: x 10, rows 8..31
    prob[0:32, 40] = 1.0  # lane B: x 40, all rows
    embedding[0, :, 40] = 3.0  # B's pixels far from A's in embedding space
    rows = [50, 100, 200, 300, 315]
    config = PostprocessingConfig(min_lane_pixels=5, dbscan_min_samples=3, fit_order=0)
    lanes = predict_lanes(prob, embedding, image_hw, rows, config, anchor_stride=4)
    assert [lane.support for lane in lanes] == [32, 24]  # strongest first
    b, a = lanes
    assert b.xs == (404.5,) * 5  # (40 + 0.5) * 10 - 0.5: pixel centres map to pixel centres, on every row
    # A covers network rows 8..31, i.e. image rows 75..320: not row 50
    assert a.xs == (-2.0, 104.5, 104.5, 104.5, 104.5)
    assert a.points(rows)[0] == (104.5, 315.0) and a.points(rows)[-1] == (104.5, 100.0)  # bottom first (CULane)
