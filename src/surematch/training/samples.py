"""Turn training data into integer-labelled rows: groups as they are, pairs by connected texts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from surematch.data.samples import GroupedTexts, TextPairs
from surematch.errors import SurematchError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledRows:
    """Items with integer group labels: `items[i]` belongs to group `labels[i]`."""

    items: list[str]
    labels: np.ndarray  # [N] int64

    def split_groups(self, fraction: float, seed: int) -> tuple[LabelledRows, LabelledRows]:
        """Hold out `fraction` of the groups (never of rows): (train, held-out)."""
        groups = np.unique(self.labels)
        n_out = round(fraction * len(groups))
        if fraction > 0 and n_out < 2:
            raise SurematchError(
                f"{len(groups)} groups are too few to hold out {fraction:.0%} for validation; "
                "set data.held_out_fraction to 0 or bring more groups")
        out = set(np.random.default_rng(seed).choice(groups, n_out, replace=False).tolist())
        mask = np.array([g in out for g in self.labels.tolist()], dtype=bool)
        return self._take(~mask), self._take(mask)

    def _take(self, mask: np.ndarray) -> LabelledRows:
        idx = np.flatnonzero(mask)
        return LabelledRows([self.items[i] for i in idx], self.labels[idx])


def group_labels(samples: GroupedTexts) -> dict[str, int]:
    """Each group id's integer label in `rows_from_groups`: its rank among the sorted ids."""
    return {g: i for i, g in enumerate(sorted(set(samples.groups)))}


def rows_from_groups(samples: GroupedTexts) -> LabelledRows:
    label = group_labels(samples)
    return LabelledRows(list(samples.texts),
                        np.array([label[g] for g in samples.groups], dtype=np.int64))


def groups_from_pairs(pairs: TextPairs, dataset: str = "pairs") -> GroupedTexts:
    """Positive pairs (label >= 0.5) joined into groups: texts linked by a chain of pairs.

    Negative and low-score pairs carry no group information and are left out (logged);
    use a pair loss (`contrastive`) to learn from them.
    """
    keep = [i for i, y in enumerate(pairs.labels) if y >= 0.5]
    if len(keep) < len(pairs):
        log.info("group losses use positive pairs only: %d of %d pairs left out",
                 len(pairs) - len(keep), len(pairs))
    if not keep:
        raise SurematchError("no positive pairs (label >= 0.5): nothing to learn groups from")
    texts = sorted({pairs.text_a[i] for i in keep} | {pairs.text_b[i] for i in keep})
    pos = {t: i for i, t in enumerate(texts)}
    a = [pos[pairs.text_a[i]] for i in keep]
    b = [pos[pairs.text_b[i]] for i in keep]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(texts), len(texts)))
    _, component = connected_components(graph, directed=False)
    return GroupedTexts.from_labels(texts, component.tolist(), dataset)
