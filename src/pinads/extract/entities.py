"""Entity lists a run needs: the ids to batch into analytics calls and the names to enrich rows.

Each list is read once per account per run (all pages) and shared by every step of that account.
Only the fields a source uses are kept, so 100,000 ads cost a few megabytes, not their payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pinads.api.client import PinterestClient
from pinads.catalog import get_dataset
from pinads.catalog.model import AttributeSource, Dataset, ListEndpoint
from pinads.extract.plan import list_calls
from pinads.extract.table import Selection

__all__ = [
    "AccountEntities",
    "entity_fields",
    "fetch_account_entities",
    "list_entity_items",
    "list_params",
]

# Listing statuses: Pinterest's default leaves archived entities out; Ads Manager shows them.
_ACTIVE_STATUSES = ("ACTIVE", "PAUSED")


@dataclass(slots=True)
class AccountEntities:
    """The entity lists of one account: entity dataset -> id -> kept fields."""

    account_id: str
    index: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    calls: int = 0

    def ids(self, dataset: str) -> list[str]:
        return list(self.index.get(dataset, {}))


def entity_fields(selection: Selection) -> dict[str, set[str]]:
    """Entity dataset -> fields to keep, following `via` chains (CAMPAIGN_NAME of an ad needs
    the ad's campaign_id, then the campaign's name)."""
    needed: dict[str, set[str]] = {}
    by_name = selection.dataset.attributes_by_name
    pending = [a for a in selection.attributes if a.source is AttributeSource.ENTITY]
    while pending:
        attr = pending.pop()
        if attr.entity is None:
            continue
        needed.setdefault(attr.entity, set()).add(attr.field)
        via = by_name.get(attr.via or "")
        if via is not None and via.source is AttributeSource.ENTITY:
            pending.append(via)
    if selection.dataset.ids_from:
        needed.setdefault(selection.dataset.ids_from, set())
    endpoint = selection.dataset.list_endpoint
    if endpoint is not None and endpoint.parent is not None:
        needed.setdefault(endpoint.parent.dataset, set())
    return needed


def list_params(endpoint: ListEndpoint, *, include_archived: bool) -> dict[str, Any]:
    params: dict[str, Any] = {key: list(values) for key, values in endpoint.params}
    if not include_archived and "entity_statuses" in params:
        params["entity_statuses"] = list(_ACTIVE_STATUSES)
    return params


def _listings(
    client: PinterestClient,
    dataset: Dataset,
    *,
    account_id: str,
    include_archived: bool,
    parent_ids: Iterable[str] = (),
) -> Iterator[Iterator[dict[str, Any]]]:
    """One listing for a plain list; one per parent for lists iterated per parent (keywords)."""
    endpoint = dataset.list_endpoint
    assert endpoint is not None, f"{dataset.name} is not an entity dataset"
    path = endpoint.path.format(ad_account_id=account_id)
    params = list_params(endpoint, include_archived=include_archived)
    page_size = 250 if endpoint.paginated else None
    if endpoint.parent is None:
        yield client.iter_items(path, params, page_size=page_size)
        return
    for parent_id in parent_ids:
        query = {**params, endpoint.parent.param: parent_id}
        yield client.iter_items(path, query, page_size=page_size)


def fetch_account_entities(
    client: PinterestClient,
    *,
    account_id: str,
    needed: Mapping[str, set[str]],
    include_archived: bool,
) -> AccountEntities:
    """List every entity dataset in `needed` for one account (parents first)."""
    result = AccountEntities(account_id=account_id)
    for name in _ordered(needed):
        dataset = get_dataset(name)
        keep = needed.get(name, set())
        items: dict[str, dict[str, Any]] = {}
        endpoint = dataset.list_endpoint
        assert endpoint is not None
        parents: list[str] = []
        if endpoint.parent is not None:
            parents = result.ids(endpoint.parent.dataset)
        for listing in _listings(
            client,
            dataset,
            account_id=account_id,
            include_archived=include_archived,
            parent_ids=parents,
        ):
            count = 0
            for item in listing:
                count += 1
                items[str(item.get("id"))] = {f: item.get(f) for f in keep}
            result.calls += list_calls(count, paginated=endpoint.paginated)
        result.index[name] = items
    return result


def _ordered(needed: Mapping[str, set[str]]) -> list[str]:
    """Parents before the lists iterated per parent (ad_groups before keywords)."""
    names = list(needed)
    order: list[str] = []
    for name in names:
        endpoint = get_dataset(name).list_endpoint
        if endpoint is not None and endpoint.parent is not None:
            parent = endpoint.parent.dataset
            if parent not in order:
                order.append(parent)
        if name not in order:
            order.append(name)
    return order


def list_entity_items(
    client: PinterestClient,
    dataset: Dataset,
    account_id: str,
    parents: Mapping[str, frozenset[str]] | None,
    *,
    include_archived: bool = True,
) -> Iterator[dict[str, Any]]:
    """Every item of an entity dataset for one account (the rows of a LIST step). Lists
    iterated per parent take the parent ids from `parents[account_id]`."""
    parent_ids = sorted(parents.get(account_id, frozenset())) if parents else []
    for listing in _listings(
        client,
        dataset,
        account_id=account_id,
        include_archived=include_archived,
        parent_ids=parent_ids,
    ):
        yield from listing
