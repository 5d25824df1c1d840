"""`discover`: before the first step, the accounts a run reads and the entity lists it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pinads.api.client import PinterestClient
from pinads.catalog.model import Dataset
from pinads.extract.entities import (
    AccountEntities,
    SpooledList,
    add_targeting_names,
    fetch_account_entities,
    spool_entity_list,
)
from pinads.extract.plan import list_calls
from pinads.extract.planning import Discovery, lists_needed
from pinads.extract.request import RunRequest
from pinads.sources.config import SourceConfig
from pinads.sources.validate import ANALYTICS_ROLES, check_accounts, raise_problems

__all__ = ["DISCOVERY_WORKERS", "discover"]

DISCOVERY_WORKERS = 4  # accounts whose entity lists are read at once


def discover(request: RunRequest, client: PinterestClient) -> Discovery:
    """Read the ad accounts (ConfigError if the source names one the token cannot use) and
    the entity lists the plan needs: shared by every step."""
    config, dataset = request.config, request.dataset
    accounts, skipped, account_calls = _accounts(client, config, dataset)
    ids = list(accounts)
    needed = lists_needed(request)
    if dataset.is_analytics:
        entities = _entities(client, config, needed, ids)
        name_calls = add_targeting_names(client, needed, entities)
        return Discovery(
            accounts=accounts,
            skipped_accounts=skipped,
            entities=entities,
            account_calls=account_calls,
            name_calls=name_calls,
        )
    entities = _entities(client, config, needed, ids) if needed else {}
    listed = _spool_lists(client, config, dataset, entities=entities, account_ids=ids)
    return Discovery(
        accounts=accounts,
        skipped_accounts=skipped,
        entities=entities,
        listed=listed,
        account_calls=account_calls,
    )


def _accounts(
    client: PinterestClient, config: SourceConfig, dataset: Dataset
) -> tuple[dict[str, dict[str, Any]], tuple[str, ...], int]:
    visible = client.ad_accounts()
    calls = list_calls(len(visible))
    raise_problems(check_accounts(config, dataset, visible=visible), what=f"source {config.name!r}")
    by_id = {str(a["id"]): a for a in visible}
    wanted = list(by_id) if config.accounts == "all" else list(config.accounts)
    skipped: list[str] = []
    chosen: dict[str, dict[str, Any]] = {}
    for account_id in wanted:
        roles = {str(r).upper() for r in by_id[account_id].get("permissions") or ()}
        if dataset.is_analytics and not roles & ANALYTICS_ROLES:
            skipped.append(account_id)  # only reachable with `accounts: all`
            continue
        chosen[account_id] = by_id[account_id]
    return chosen, tuple(skipped), calls


def _entities(
    client: PinterestClient,
    config: SourceConfig,
    needed: Mapping[str, set[str]],
    account_ids: Sequence[str],
) -> dict[str, AccountEntities]:
    if not needed or not account_ids:
        return {a: AccountEntities(account_id=a) for a in account_ids}
    with ThreadPoolExecutor(max_workers=max(1, min(DISCOVERY_WORKERS, len(account_ids)))) as pool:
        results = pool.map(
            lambda account: fetch_account_entities(
                client,
                account_id=account,
                needed=needed,
                include_archived=config.include_archived,
            ),
            account_ids,
        )
        return {result.account_id: result for result in results}


def _spool_lists(
    client: PinterestClient,
    config: SourceConfig,
    dataset: Dataset,
    *,
    entities: Mapping[str, AccountEntities],
    account_ids: Sequence[str],
) -> dict[str, SpooledList]:
    """Each account's list of an entity dataset, read now so the plan knows its pages (the
    ad account list needs none: discovery read it)."""
    endpoint = dataset.list_endpoint
    if endpoint is None or "{ad_account_id}" not in endpoint.path or not account_ids:
        return {}
    parent = endpoint.parent.dataset if endpoint.parent is not None else None

    def spool(account: str) -> SpooledList:
        parents = entities[account].ids(parent) if parent is not None else ()
        return spool_entity_list(
            client,
            dataset,
            account,
            parent_ids=parents,
            include_archived=config.include_archived,
        )

    listed: dict[str, SpooledList] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(DISCOVERY_WORKERS, len(account_ids)))) as pool:
        try:
            for spooled in pool.map(spool, account_ids):
                listed[spooled.account_id] = spooled
        except BaseException:
            for spooled in listed.values():
                spooled.close()
            raise
    return listed
