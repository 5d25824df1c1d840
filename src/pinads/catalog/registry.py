"""All datasets by name, and search over datasets and metrics."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from types import MappingProxyType

from pinads.catalog.analytics import ANALYTICS_DATASETS
from pinads.catalog.entities import ENTITY_DATASETS
from pinads.catalog.model import Dataset, Metric
from pinads.errors import ConfigError

__all__ = [
    "DATASETS",
    "close_names",
    "get_dataset",
    "search_datasets",
    "search_metrics",
]

DATASETS: MappingProxyType[str, Dataset] = MappingProxyType(
    {dataset.name: dataset for dataset in (*ENTITY_DATASETS, *ANALYTICS_DATASETS)}
)


def close_names(name: str, candidates: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """The valid names closest to `name` (case-insensitive), best first.

    difflib's similarity, nudged towards names sharing the first word: someone who typed
    SPEND_IN_MICRO_DOLLARS wants SPEND_IN_DOLLAR before CPV_IN_MICRO_DOLLAR.
    """
    by_upper = {candidate.upper(): candidate for candidate in candidates}
    target = name.upper()
    first_word = target.split("_")[0]
    matches = difflib.get_close_matches(target, list(by_upper), n=max(4 * limit, 12), cutoff=0.6)

    def score(match: str) -> float:
        bonus = 0.1 if match.split("_", maxsplit=1)[0] == first_word else 0.0
        return difflib.SequenceMatcher(None, target, match).ratio() + bonus

    matches.sort(key=score, reverse=True)
    return tuple(by_upper[match] for match in matches[:limit])


def get_dataset(name: str) -> Dataset:
    """The dataset called `name`; ConfigError naming the closest datasets when there is none."""
    dataset = DATASETS.get(name.strip().lower())
    if dataset is not None:
        return dataset
    close = close_names(name.strip().lower(), DATASETS)
    hint = f"did you mean {', '.join(close)}?" if close else "run `pinads datasets` to list them"
    raise ConfigError(f"unknown dataset {name!r}: {hint}")


@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower())


def _dataset_score(dataset: Dataset, term: str) -> int:
    """How well one search term matches a dataset (0 = not at all), best reason first."""
    name = _norm(dataset.name)
    attributes = [_norm(attr.name) for attr in dataset.attributes]
    metrics = [_norm(metric.name) for metric in dataset.metrics]
    checks = (
        (100, term == name),
        (60, term in name),
        (50, term in _norm(dataset.title)),
        (40, any(term in _norm(word) for word in dataset.keywords)),
        (35, term in attributes),
        (25, any(term in attr for attr in attributes)),
        (20, term in _norm(dataset.description)),
        (15, term in metrics),
        (5, any(term in metric for metric in metrics)),
    )
    return next((score for score, hit in checks if hit), 0)


def search_datasets(text: str) -> list[Dataset]:
    """Datasets matching `text` in their name, title, attributes or metrics, best first.

    Case-insensitive; spaces, `_` and `-` are ignored (`app type` finds APPTYPE). Datasets that
    match the whole text come first, then those matching every word of it somewhere. An empty
    text lists every dataset.
    """
    phrase = _norm(text)
    terms = [_norm(word) for word in text.split() if _norm(word)]
    scored: list[tuple[int, int, int, Dataset]] = []
    for order, dataset in enumerate(DATASETS.values()):
        whole = _dataset_score(dataset, phrase) if phrase else 1
        if whole:
            scored.append((0, -whole, order, dataset))
            continue
        scores = [_dataset_score(dataset, term) for term in terms]
        if len(terms) > 1 and all(scores):
            scored.append((1, -sum(scores), order, dataset))
    return [dataset for *_, dataset in sorted(scored, key=lambda item: item[:3])]


def _metric_score(metric: Metric, term: str) -> int:
    name = _norm(metric.name)
    if term == name:
        return 100
    if name.startswith(term):
        return 60
    if term in name:
        return 40
    if term in _norm(metric.description) or term in (_norm(metric.unit.value), metric.group):
        return 20
    return 0


def search_metrics(dataset: Dataset | str, text: str) -> list[Metric]:
    """Metrics of `dataset` matching every word of `text` in name, description or unit."""
    ds = dataset if isinstance(dataset, Dataset) else get_dataset(dataset)
    terms = [_norm(word) for word in text.split() if _norm(word)]
    scored: list[tuple[int, int, Metric]] = []
    for order, metric in enumerate(ds.metrics):
        scores = [_metric_score(metric, term) for term in terms]
        if all(scores):
            scored.append((-sum(scores), order, metric))
    return [metric for _, _, metric in sorted(scored, key=lambda item: item[:2])]
