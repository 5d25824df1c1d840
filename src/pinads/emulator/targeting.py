"""`GET /v5/resources/targeting/{targeting_type}`: the names of targeting codes, answered as
Pinterest does, a list of {code: name} objects (`TargetingOptionResponse`).

The emulator names the codes its own breakdowns report: DMA codes for LOCATION (Nielsen's
names, as Pinterest spells them, "U.S.: New York"), its `CC:NNN` geo ids for GEO (DMA names
in the U.S., "France: area 501" elsewhere), and the
partition values of APPTYPE, GENDER and AGE_BUCKET. Other types have no options here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.breakdowns import GEO_AREAS, LOCATION_CODES, partition_values
from pinads.emulator.http import authenticate, emulator_state, json_response, require_account
from pinads.emulator.params import invalid, parse_query
from pinads.emulator.spec import operation

__all__ = ["DMA_NAMES", "targeting_options"]

_OP = "targeting_options/get"
# Nielsen DMA names of the codes the emulator's LOCATION breakdown reports.
DMA_NAMES = {
    "501": "New York",
    "602": "Chicago",
    "623": "Dallas-Ft. Worth",
    "803": "Los Angeles",
    "807": "San Francisco-Oakland-San Jose",
    "999": "Other areas",
}
_COUNTRIES = {
    "US": "U.S.",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "AU": "Australia",
    "SE": "Sweden",
    "JP": "Japan",
    "ES": "Spain",
    "IT": "Italy",
    "NL": "Netherlands",
}
_TYPES = frozenset(operation(_OP)["parameters"][0]["schema"]["enum"])


def _options(kind: str, countries: set[str]) -> dict[str, str]:
    if kind == "LOCATION":
        return {code: f"U.S.: {DMA_NAMES[code]}" for code in LOCATION_CODES}
    if kind == "GEO":
        return {
            f"{country}:{area}": f"{_COUNTRIES.get(country, country)}: "
            + (DMA_NAMES[area] if country == "US" else f"area {area}")
            for country in sorted(countries)
            for area in GEO_AREAS
        }
    return {value: value.replace("_", " ").capitalize() for value in partition_values(kind)}


async def targeting_options(request: Request) -> Response:
    info = authenticate(request)
    query = parse_query(request, _OP)
    kind = request.path_params["targeting_type"]
    if kind not in _TYPES:
        raise invalid(_OP)
    state = emulator_state(request)
    if "ad_account_id" in query:
        require_account(request, info, query["ad_account_id"])
    countries = {account.country for account in state.world.accounts.values()}
    options = _options(kind, countries)
    if not options:
        return json_response([])
    return json_response([options])
