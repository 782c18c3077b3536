"""The fast training step computes what the plain one did: length groups and flat parameters change only speed."""

from __future__ import annotations

import copy

import pytest
import torch

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import load_ladder
from harness.training.data import Mixture
from harness.training.groups import PASS_COST_FLOP, plan
from harness.training.module import LadderModule
from harness.training.schedule import lr_factor

CPU = load_ladder("cpu")
MIXTURE = Mixture.of(CPU)


def test_plan_hand_computed():
    # One length: one group whatever the size.
    assert plan({10: 64}, 10**9) == (10,)
    # Tiny model: a second pass costs more than the padding it saves.
    assert plan({5: 32, 18: 32}, 1000) == (18,)
    # Two lengths, a model where the saving 6 * P * 32 rows * 13 positions exceeds one pass's cost.
    big = int(PASS_COST_FLOP / (6 * 32 * 13)) + 1
    assert plan({5: 32, 18: 32}, big) == (5, 18)
    assert plan({5: 32, 18: 32}, big - 2) == (18,)


@pytest.mark.parametrize("params", [10**3, 10**5, 10**6, 10**8])
def test_plan_covers_every_row_and_stays_within_the_limit(params):
    groups = plan(MIXTURE.rows_by_length(), params)
    assert list(groups) == sorted(set(groups)) and groups[-1] == MIXTURE.seq_len and len(groups) <= 3
    assert set(groups) <= set(MIXTURE.rows_by_length())


def test_the_cpu_ladder_groups_only_its_wider_rungs():
    groups = [plan(MIXTURE.rows_by_length(), r.params) for r in CPU.rungs]
    assert groups[:3] == [(18,)] * 3, "the narrow rungs run one pass"
    assert [len(g) for g in groups[3:]] == [2, 2, 3, 3, 3], "the wider ones skip most padding"


@pytest.mark.parametrize("family", ["gpt", "mixer"])
@pytest.mark.parametrize("groups", [(5, 18), (5, 12, 18), (10, 14, 18)])
def test_grouped_loss_and_gradients_equal_the_padded_ones(family, groups):
    """Padding trails every row and the models are causal, so running rows at their own length changes nothing."""
    torch.manual_seed(0)
    model = FAMILIES.get(family).build(CPU.rungs[2].config)
    batch = MIXTURE.train_batch(0, 0)
    padded, grouped = (
        LadderModule(copy.deepcopy(model), CPU.spec.training),
        LadderModule(model, CPU.spec.training, groups),
    )
    a, b = padded.loss(batch), grouped.loss(batch)
    assert b.item() == pytest.approx(a.item(), rel=1e-6)
    a.backward()
    b.backward()
    for (name, p), q in zip(padded.model.named_parameters(), grouped.model.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-7, msg=name)


@pytest.mark.parametrize("family", ["gpt", "mixer"])
@pytest.mark.parametrize("rung", [0, 2, 5])
def test_answer_positions_only_give_the_loss_and_gradients_of_the_full_pass(family, rung):
    """Training runs the last block's MLP, the final norm and the unembedding at answer positions only."""
    torch.manual_seed(0)
    model = FAMILIES.get(family).build(CPU.rungs[rung].config)
    full = copy.deepcopy(model)
    tokens, answer_mask = MIXTURE.train_batch(0, 3)
    mask = answer_mask[:, 1:]
    a = torch.nn.functional.cross_entropy(full(tokens[:, :-1])[mask], tokens[:, 1:][mask], reduction="sum")
    training = CPU.spec.training.model_copy(update={"answers_only": True})
    b = LadderModule(model, training)._loss_sum(tokens, answer_mask)
    assert b.item() == pytest.approx(a.item(), rel=1e-6)
    a.backward()
    b.backward()
    for (name, p), q in zip(full.named_parameters(), model.parameters()):  # sums in another order: float32 rounding
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-6 * float(p.grad.abs().max()), msg=name)


def test_flat_parameters_train_like_separate_ones():
    """The flat AdamW step with clipping matches torch's AdamW over the separate parameters."""
    torch.manual_seed(0)
    model = FAMILIES.get("gpt").build(CPU.rungs[1].config)
    spec = CPU.spec.training
    reference = copy.deepcopy(model)
    module = LadderModule(model, spec)
    conf = module.configure_optimizers()
    optimizer, schedule = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    params = list(reference.parameters())
    ref_opt = torch.optim.AdamW(
        [{"params": [p for p in params if p.dim() >= 2], "weight_decay": spec.weight_decay},
         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
        lr=spec.lr, betas=(0.9, 0.98),
    )  # fmt: skip
    ref_schedule = torch.optim.lr_scheduler.LambdaLR(
        ref_opt, lambda step: lr_factor(step, spec.warmup_steps, spec.steps, spec.min_lr_ratio)
    )
    ref_module = LadderModule(reference, spec)
    for step in range(5):
        batch = MIXTURE.train_batch(0, step)
        module.plain_step(batch, optimizer, schedule)
        ref_opt.zero_grad()
        ref_module.loss(batch).backward()
        torch.nn.utils.clip_grad_norm_(params, spec.grad_clip)
        ref_opt.step()
        ref_schedule.step()
    for (name, p), q in zip(reference.named_parameters(), model.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-6, msg=name)


def test_the_model_parameters_are_views_of_the_flat_ones():
    torch.manual_seed(0)
    module = LadderModule(FAMILIES.get("gpt").build(CPU.rungs[0].config), CPU.spec.training)
    module.configure_optimizers()
    total = sum(f.numel() for f in module.flat)
    assert total == CPU.rungs[0].params
    for p in module.model.parameters():
        assert any(p.untyped_storage().data_ptr() == f.untyped_storage().data_ptr() for f in module.flat)
        assert any(p.grad.untyped_storage().data_ptr() == f.grad.untyped_storage().data_ptr() for f in module.flat)
