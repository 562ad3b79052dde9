"""A scorer whose forward passes the test can hold, watch and break."""

from __future__ import annotations

import threading


class GatedScorer:
    """The tiny scorer, but each forward pass waits for the test to open a gate
    (and fails when told to), so tests can hold the model busy."""

    def __init__(self, scorer) -> None:
        self._scorer = scorer
        self.description = scorer.description
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # set when a forward pass starts
        self.fail = False
        self.scored: list[list[int]] = []

    def encode(self, *args):
        return self._scorer.encode(*args)

    def fits_position_limit(self, *args):
        return self._scorer.fits_position_limit(*args)

    def forward(self, sequences):
        self.entered.set()
        assert self.gate.wait(60)
        if self.fail:
            raise RuntimeError("simulated CUDA error")
        self.scored.extend(list(s) for s in sequences)
        return self._scorer.forward(sequences)
