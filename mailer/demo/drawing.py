"""Random draws in bulk from a numpy Generator, as plain lists the demo rows are built from."""

import math
from collections.abc import Sequence

import numpy as np


def probabilities(weights: Sequence[float]) -> np.ndarray:
    """Normalise ``weights`` into probabilities."""
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


def weighted(rng: np.random.Generator, probabilities: np.ndarray, size: int) -> list[int]:
    """Draw ``size`` indices with the given probabilities."""
    return rng.choice(probabilities.size, size=size, p=probabilities).tolist()


def uniform(rng: np.random.Generator, low: int, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from ``low`` to ``high`` inclusive."""
    return rng.integers(low, high + 1, size).tolist()


def flags(rng: np.random.Generator, rate: float, size: int) -> list[bool]:
    """Draw ``size`` booleans, each true with probability ``rate``."""
    return (rng.random(size) < rate).tolist()


def log_uniform(rng: np.random.Generator, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from 1 to ``high``, small ones more often, like house numbers."""
    return np.floor(np.exp(rng.uniform(0.0, math.log(high + 1), size))).astype(np.int64).tolist()
