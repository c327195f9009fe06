import math

import numpy as np
import pytest
import torch

from subrational.errors import UnknownNameError
from subrational.learning import LOSSES
from subrational.learning.losses import get_loss, kl, paper

P = torch.tensor([[0.8, 0.2], [0.5, 0.5]])
Y = torch.tensor([[0.6, 0.4], [1.0, 0.0]])


def test_paper_loss_hand_computed():
    # sample 1: 0.2^2 + 0.2^2 = 0.08; sample 2: 0.5^2 + 0.5^2 = 0.5
    assert paper(P.log(), Y, torch.ones(2)).item() == pytest.approx((0.08 + 0.5) / 2)
    # weights 3 and 1: (3 * 0.08 + 0.5) / 4
    assert paper(P.log(), Y, torch.tensor([3.0, 1.0])).item() == pytest.approx(0.74 / 4)


def test_kl_loss_hand_computed():
    kl1 = 0.6 * math.log(0.6 / 0.8) + 0.4 * math.log(0.4 / 0.2)
    kl2 = 1.0 * math.log(1.0 / 0.5)  # the zero target term counts as 0
    assert kl(P.log(), Y, torch.ones(2)).item() == pytest.approx((kl1 + kl2) / 2, rel=1e-6)
    assert kl(P.log(), Y, torch.tensor([1.0, 3.0])).item() == pytest.approx(
        (kl1 + 3 * kl2) / 4, rel=1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_is_zero_iff_equal(name):
    loss = LOSSES[name]
    w = torch.ones(2)
    assert loss(Y.clamp_min(1e-30).log(), Y, w).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(P.log(), P, w).item() == pytest.approx(0.0, abs=1e-7)
    assert loss(P.log(), Y, w).item() > 0.05


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradient_points_toward_target(name):
    logits = torch.zeros(1, 2, requires_grad=True)
    target = torch.tensor([[0.9, 0.1]])
    LOSSES[name](torch.log_softmax(logits, -1), target, torch.ones(1)).backward()
    grad = logits.grad.numpy()[0]
    assert grad[0] < 0 < grad[1]  # descending raises the logit of the likelier action


def test_unknown_loss_name():
    with pytest.raises(UnknownNameError, match="unknown loss 'kll'.*did you mean 'kl'"):
        get_loss("kll")
    assert set(LOSSES) == {"paper", "kl"}
    assert np.isfinite(kl(torch.tensor([[0.0, -50.0]]), torch.tensor([[1.0, 0.0]]),
                          torch.ones(1)).item())
