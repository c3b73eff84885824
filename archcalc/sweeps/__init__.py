"""``archcalc sweep``: cost a whole design space (arguments × input sizes), locally or on a cluster.

    for row in archcalc.sweep("resnet_cifar_v1", {"n": range(1, 10)}, inputs=[(3, 32, 32)]):
        print(row["n"], row["params"], row["macs"])

The analysis is pure, so a space is an embarrassingly parallel job: :mod:`.run` sends batches of
points to a process pool, a Dask cluster or a Ray cluster and streams the rows back in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..conventions import Conventions
from .evaluate import METRICS, SpecSource
from .run import SweepOptions, run_sweep
from .space import Space, space_of


class Sweep:
    """The rows of a sweep, computed as they are iterated (once); ``to_pandas()`` collects them."""

    def __init__(self, source: SpecSource, space: Space, options: SweepOptions) -> None:
        self.source, self.space, self.options = source, space, options

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return run_sweep(self.source, self.space, self.options)

    def __len__(self) -> int:
        return min(self.space.size, self.options.sample or self.space.size)

    def to_pandas(self):
        """A pandas DataFrame of every row (pandas must be installed)."""
        import pandas

        return pandas.DataFrame.from_records(list(self), columns=["point", *self.space.names, "input", *METRICS, "error"])


def sweep(spec: str, grid: Mapping[str, Iterable[Any]] | None = None, inputs: Sequence[tuple[int, ...]] | None = None,
          conventions: Conventions | None = None, jobs: int | None = 1, executor: str = "local",
          address: str | None = None, sample: int | None = None, seed: int = 0) -> Sweep:
    """Every point of ``grid`` (argument name → values) × ``inputs`` (shapes; None: the spec's own)
    of the spec file or built-in name ``spec``. ``jobs=None`` uses every core; ``executor`` 'dask' or
    'ray' runs on the cluster at ``address`` (None: a local one)."""
    space = space_of([(name, list(values)) for name, values in (grid or {}).items()], inputs)
    options = SweepOptions(conventions or Conventions(), jobs, executor, address, 0, sample, seed)
    return Sweep(SpecSource.of(spec), space, options)


__all__ = ["Sweep", "SweepOptions", "sweep"]
