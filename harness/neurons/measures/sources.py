"""Where each task's answer tokens are read from, and how much attention the answer positions pay there.

A source map is, per probe row and answer token, the input positions holding what that answer token is
computed from (token indices, the tag at 0; ``TaskProbe`` has the layouts' inputs). ``source_attention``
is then, per layer and head, the attention from the position that predicts each answer token (the SEP or the
answer token before it) to its sources, summed over the sources and averaged over rows and answer tokens.
A head that puts all its attention there scores 1; one that spreads it evenly over the causal prefix scores
the mean of (number of sources) / (query position + 1).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch

from harness.neurons.measures.probes import Run, TaskProbe
from harness.registry import Registry
from harness.tasks import Task

# family -> (task, tokens (n, L)) -> sources (n, A, L - 1) bool; an answer token with no source is left out.
SourceMap = Callable[[Task, torch.Tensor], torch.Tensor]
SOURCES: Registry[SourceMap] = Registry("answer source map")


def _empty(tokens: torch.Tensor, answers: int) -> torch.Tensor:
    return torch.zeros(tokens.shape[0], answers, tokens.shape[1] - 1, dtype=torch.bool)  # (n, A, T)


def _holding(tokens: torch.Tensor, answers: int, first: int, last: int) -> torch.Tensor:
    """Sources by content: the positions first .. last holding the same symbol as each answer token."""
    src = _empty(tokens, answers)
    answer = tokens[:, -answers:]  # (n, A)
    src[:, :, first : last + 1] = tokens[:, None, first : last + 1] == answer[:, :, None]
    return src


@SOURCES.register("copy")
def copy_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer symbol i is question symbol i, at position 1 + i."""
    src = _empty(tokens, task.length)
    src[:, torch.arange(task.length), 1 + torch.arange(task.length)] = True
    return src


@SOURCES.register("reverse")
def reverse_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer symbol i is question symbol length - 1 - i, at position length - i."""
    src = _empty(tokens, task.length)
    src[:, torch.arange(task.length), task.length - torch.arange(task.length)] = True
    return src


@SOURCES.register("sort")
def sort_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer symbol i (the i-th smallest) is held by every question position with that symbol (repeats allowed)."""
    return _holding(tokens, task.length, 1, task.length)


@SOURCES.register("addition")
def addition_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer digit i (least significant first) has the same significance as a's digit i (position 1 + i) and
    b's (1 + n_digits + i); the last answer digit, the final carry, has none and is left out."""
    d = task.n_digits
    src = _empty(tokens, d + 1)
    i = torch.arange(d)
    src[:, i, 1 + i] = True
    src[:, i, 1 + d + i] = True
    return src


@SOURCES.register("multiply")
def multiply_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer digit i has the same significance as the long number's digit i (position 1 + i); the one-digit
    multiplier is read for every digit and the last answer digit (the final carry) is left out."""
    d = task.n_digits
    src = _empty(tokens, d + 1)
    src[:, torch.arange(d), 1 + torch.arange(d)] = True
    return src


@SOURCES.register("mqar")
def mqar_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer j is the value bound to query j: the value at 2 + 2p of the pair p whose key (at 1 + 2p) equals the
    query (at 1 + 2 n_pairs + j). The key-to-value retrieval of Zoology's MQAR."""
    p, q = task.n_pairs, task.n_queries
    keys = tokens[:, 1 : 1 + 2 * p : 2]  # (n, P)
    queries = tokens[:, 1 + 2 * p : 1 + 2 * p + q]  # (n, Q)
    src = _empty(tokens, q)
    src[:, :, 2 : 2 + 2 * p : 2] = queries[:, :, None] == keys[:, None, :]  # (n, Q, P) at the value positions
    return src


@SOURCES.register("induction")
def induction_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """Answer symbol i continues the segment after the cue's earlier occurrence: the context position holding it
    (the context's symbols are distinct, so it is one position)."""
    return _holding(tokens, task.continuation, 1, task.context)


@SOURCES.register("sparse_parity")
def parity_sources(task: Task, tokens: torch.Tensor) -> torch.Tensor:
    """The parity is read from the secret bits, at positions 1 + s for each secret position s."""
    src = _empty(tokens, 1)
    src[:, 0, [1 + s for s in task.secret]] = True
    return src


def source_attention(probe: TaskProbe, run: Run, sources: torch.Tensor) -> pd.DataFrame:
    """Per (layer, head): the mean over rows and answer tokens (those with a source) of the attention from the
    position predicting the answer token to its sources. sources: (n, A, T) bool. Columns layer, head, value."""
    at = probe.answer_positions  # (A,)
    counted = sources.any(dim=2)  # (n, A)
    rows = []
    for layer, pattern in sorted(run.patterns.items()):  # (n, H, T, T)
        paid = (pattern[:, :, at, :] * sources[:, None]).sum(dim=3)  # (n, H, A)
        value = (paid * counted[:, None]).sum(dim=(0, 2)) / counted.sum()  # (H,)
        rows += [(layer, head, float(value[head])) for head in range(pattern.shape[1])]
    return pd.DataFrame(rows, columns=["layer", "head", "value"])
