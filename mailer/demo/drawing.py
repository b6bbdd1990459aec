"""Random draws in bulk from a numpy Generator, as plain lists the demo rows are built from."""

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

# numpy types ``tolist()`` as Any: the lists below hold what the arrays held.


def probabilities(weights: Sequence[float]) -> npt.NDArray[np.float64]:
    """Normalise ``weights`` into probabilities."""
    array = np.asarray(weights, dtype=np.float64)
    return array / np.sum(array)


def weighted(rng: np.random.Generator, probabilities: npt.NDArray[np.float64], size: int) -> list[int]:
    """Draw ``size`` indices with the given probabilities."""
    return cast(list[int], rng.choice(probabilities.size, size=size, p=probabilities).tolist())


def uniform(rng: np.random.Generator, low: int, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from ``low`` to ``high`` inclusive."""
    return cast(list[int], rng.integers(low, high + 1, size).tolist())


def flags(rng: np.random.Generator, rate: float, size: int) -> list[bool]:
    """Draw ``size`` booleans, each true with probability ``rate``."""
    return cast(list[bool], (rng.random(size) < rate).tolist())


def log_uniform(rng: np.random.Generator, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from 1 to ``high``, small ones more often, like house numbers."""
    return cast(list[int], np.floor(np.exp(rng.uniform(0.0, math.log(high + 1), size))).astype(np.int64).tolist())
