"""colorlab.losses on hand-computed cases. Network range: hue h turns -> 2h-1, saturation s -> 2s-1."""
import math

import pytest
import torch

from colorlab.losses import (
    LOSSES,
    VIVID_LAMBDA,
    chroma_deficit,
    cyclic_hue_l1,
    get_loss,
    hsv_cossin,
    hsv_cyclic,
    hue_cossin_loss,
    l1_vivid,
    vividness_k,
    weighted_mae,
)


def net(hue_turns, sat, shape=(1, 1, 2, 2)):
    """A constant network-range HSV prediction (N,2,H,W)."""
    return torch.cat([torch.full(shape, 2 * hue_turns - 1), torch.full(shape, 2 * sat - 1)], 1)


def pixels(values):
    return torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1)


def test_cyclic_hue_wraps_around_red():
    # 0.05 and 0.95 turn are 0.1 turn apart, i.e. 0.2 in [-1, 1] units (not 0.9 turn = 1.8).
    assert cyclic_hue_l1(pixels([-0.9]), pixels([0.9])).item() == pytest.approx(0.2)
    assert cyclic_hue_l1(pixels([0.9]), pixels([-0.9])).item() == pytest.approx(0.2)
    assert cyclic_hue_l1(pixels([-1.0]), pixels([1.0])).item() == pytest.approx(0.0, abs=1e-7)   # both red
    assert cyclic_hue_l1(pixels([-0.5]), pixels([0.5])).item() == pytest.approx(1.0)   # opposite hues: the maximum
    assert cyclic_hue_l1(pixels([0.1, -0.2]), pixels([0.3, 0.2])).item() == pytest.approx((0.2 + 0.4) / 2)


def test_cyclic_hue_weighted_mean():
    d = cyclic_hue_l1(pixels([0.0, 0.0]), pixels([0.2, 0.6]), weight=pixels([3.0, 1.0]))
    assert d.item() == pytest.approx((3 * 0.2 + 1 * 0.6) / 4)
    assert cyclic_hue_l1(pixels([0.0]), pixels([0.5]), weight=pixels([0.0])).item() == 0.0   # no weight: no NaN


def test_hue_cossin_loss():
    assert hue_cossin_loss(pixels([0.3]), pixels([0.3])).item() == pytest.approx(0.0, abs=1e-7)
    assert hue_cossin_loss(pixels([-1.0]), pixels([1.0])).item() == pytest.approx(0.0, abs=1e-6)   # red == red
    assert hue_cossin_loss(pixels([-0.5]), pixels([0.5])).item() == pytest.approx(4.0)   # opposite points
    # A quarter turn (0.5 in net units) is a chord of sqrt(2): squared 2.
    assert hue_cossin_loss(pixels([0.0]), pixels([0.5])).item() == pytest.approx(2.0)


def test_vividness_k():
    assert vividness_k(pixels([0.2, 0.6])).item() == pytest.approx(0.6)
    assert vividness_k(pixels([1.0])).item() == 0.0


def test_weighted_mae_hue_term():
    grey = torch.full((1, 1, 2, 2), 0.5)
    # Grey predictions (S = 0) rebuild identical V, so only the circular hue term is left.
    assert weighted_mae(net(0.05, 0.0), net(0.95, 0.0), grey).item() == pytest.approx(0.2 / 3, abs=1e-5)


def test_weighted_mae_saturation_weight():
    grey = torch.full((1, 1, 2, 2), 0.4)
    pred, target = net(0.3, 0.5), net(0.3, 0.2)
    # Only the S term depends on lam: its coefficient is |0.5 - 0.2| / 3.
    diff = weighted_mae(pred, target, grey, lam=2.0) - weighted_mae(pred, target, grey, lam=1.0)
    assert diff.item() == pytest.approx(0.3 / 3, abs=1e-5)


def test_l1_vivid():
    grey = torch.full((1, 1, 2, 2), 0.5)
    p = net(0.3, 0.5)
    assert l1_vivid(p, p, grey).item() == pytest.approx(VIVID_LAMBDA * 0.5)
    assert l1_vivid(net(0.3, 0.5), net(0.3, 0.25), grey, lam=0.0).item() == pytest.approx(0.25)   # (0.5 + 0) / 2


def test_hsv_cyclic_weights_hue_by_true_saturation():
    grey = torch.zeros(1, 1, 1, 2)
    pred = torch.tensor([[0.0, 0.0], [0.0, 0.0]]).view(1, 2, 1, 2)        # hue 0.5 turn, s = 0.5
    target = torch.tensor([[0.2, 0.8], [1.0, -1.0]]).view(1, 2, 1, 2)     # s = 1 and 0
    # S: (|0.5-1| + |0.5-0|) / 2 = 0.5; hue: only pixel 0 counts (s=1), error 0.2.
    assert hsv_cyclic(pred, target, grey).item() == pytest.approx(0.5 + 0.2)
    assert hsv_cyclic(pred, target, grey, lam=0.5).item() == pytest.approx(0.5 + 0.1)


def test_hsv_cossin():
    grey = torch.zeros(1, 1, 2, 2)
    assert hsv_cossin(net(0.25, 1.0), net(0.75, 1.0), grey).item() == pytest.approx(4.0)
    assert hsv_cossin(net(0.05, 1.0), net(0.95, 1.0), grey).item() == pytest.approx(2 - 2 * math.cos(0.2 * math.pi))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_scalars_and_zero_on_identical(name):
    torch.manual_seed(0)
    target = torch.rand(2, 2, 8, 8) * 2 - 1
    pred = (torch.rand(2, 2, 8, 8) * 2 - 1).requires_grad_()
    grey = torch.rand(2, 1, 8, 8)
    fn = get_loss(name)
    loss = fn(pred, target, grey)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    same = fn(target, target, grey).item()
    if name == "l1_vivid":   # the vividness term stays: it rewards saturation, not agreement
        assert same == pytest.approx(VIVID_LAMBDA * vividness_k((target[:, 1:] + 1) / 2).item(), abs=1e-6)
    else:
        assert same == pytest.approx(0.0, abs=1e-5)


def test_get_loss_unknown():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*'mse'"):
        get_loss("nope")


def test_chroma_deficit_is_one_sided_per_image():
    # image 0 is 0.3 less colourful than its truth, image 1 is 0.2 more: only the first counts
    c_pred = torch.stack([torch.full((1, 2, 2), 0.1), torch.full((1, 2, 2), 0.6)])
    c_true = torch.stack([torch.full((1, 2, 2), 0.4), torch.full((1, 2, 2), 0.4)])
    assert chroma_deficit(c_pred, c_true).item() == pytest.approx(0.3 / 2)
    assert chroma_deficit(c_true, c_true).item() == 0


def test_chroma_deficit_compares_means_not_pixels():
    # same mean colour strength, different layout: no deficit
    assert chroma_deficit(pixels([0.0, 0.8]), pixels([0.4, 0.4])).item() == pytest.approx(0)
