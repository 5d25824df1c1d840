"""Entity lists a run needs: the ids to batch into analytics calls and the names to enrich rows.

Each list is read once per account per run (all pages) and shared by every step of that account.
Only the fields a source uses are kept, so 100,000 ads cost a few megabytes, not their payloads.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from pinads.api.client import PinterestClient
from pinads.api.targeting import targeting_names
from pinads.catalog import get_dataset
from pinads.catalog.breakdowns import targeting_options_type
from pinads.catalog.model import AttributeSource, Dataset, ListEndpoint
from pinads.extract.plan import list_calls
from pinads.extract.table import Selection

__all__ = [
    "AccountEntities",
    "SpooledList",
    "add_targeting_names",
    "entity_fields",
    "fetch_account_entities",
    "list_params",
    "spool_entity_list",
]

# Listing statuses: Pinterest's default leaves archived entities out; Ads Manager shows them.
_ACTIVE_STATUSES = ("ACTIVE", "PAUSED")
_SPOOL_MAX_BYTES = 8 * 1024 * 1024  # a longer list spills to a temporary file


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


def add_targeting_names(
    client: PinterestClient,
    needed: Iterable[str],
    entities: Mapping[str, AccountEntities],
) -> int:
    """Put the targeting option names in `needed` (code -> {"name": ...}) into every account's
    index, where TARGETING_VALUE_NAME looks them up like an entity's name; the API calls made
    (none when this process read them already)."""
    calls = 0
    for name in needed:
        targeting_type = targeting_options_type(name)
        if targeting_type is None or not entities:
            continue
        names, made = targeting_names(client, targeting_type, ad_account_id=next(iter(entities)))
        calls += made
        index = {code: {"name": text} for code, text in names.items()}
        for account in entities.values():
            account.index[name] = index
    return calls


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
    lists = [name for name in needed if targeting_options_type(name) is None]
    for name in _ordered(lists):
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


def _ordered(needed: Iterable[str]) -> list[str]:
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


@dataclass(slots=True)
class SpooledList:
    """An entity list of one account, read before the plan is made (so the plan counts its
    pages instead of guessing one) and kept as JSON lines in a spooled temporary file until
    its LIST step writes it: 100,000 ads stay on disk, not in memory."""

    account_id: str
    pages: int
    count: int
    _file: IO[bytes] = field(repr=False)

    def items(self) -> Iterator[dict[str, Any]]:
        self._file.seek(0)
        for line in self._file:
            item: dict[str, Any] = json.loads(line)
            yield item

    def close(self) -> None:
        self._file.close()


def spool_entity_list(
    client: PinterestClient,
    dataset: Dataset,
    account_id: str,
    *,
    parent_ids: Iterable[str] = (),
    include_archived: bool = True,
) -> SpooledList:
    """Every item of an entity dataset for one account, spooled, with the pages it took."""
    endpoint = dataset.list_endpoint
    assert endpoint is not None, f"{dataset.name} is not an entity dataset"
    # Closed by the SpooledList's owner (the run, once the step is written).
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX_BYTES)  # noqa: SIM115
    pages = total = 0
    try:
        for listing in _listings(
            client,
            dataset,
            account_id=account_id,
            include_archived=include_archived,
            parent_ids=sorted(parent_ids),
        ):
            count = 0
            for item in listing:
                spool.write(json.dumps(item, separators=(",", ":")).encode() + b"\n")
                count += 1
            pages += list_calls(count, paginated=endpoint.paginated)
            total += count
    except BaseException:
        spool.close()
        raise
    return SpooledList(account_id=account_id, pages=pages, count=total, _file=spool)
