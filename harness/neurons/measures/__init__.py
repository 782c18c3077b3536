"""Progress measures of one model, each a pure function over a plain ``nn.Module`` (``harness.neurons.internals``
runs them over every checkpoint of a ladder).

- ``heads``: the attention patterns of a forward pass; previous-token and induction scores on a fixed probe.
- ``weights``: weight norms; the Fourier share of mod_add's residue embeddings.
- ``probes``: each task's probe examples, a fixed subset of its held-out set, and the forward pass measured on them.
- ``sources``: where each task's answer tokens are read from, and the attention the answer positions pay there.
- ``parity``: sparse parity's secret-bit share of the response to flipping one bit.
- ``tasks``: the per-task measures by name, with the families each applies to (``TASK_MEASURES``).
"""
