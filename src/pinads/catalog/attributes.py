"""Attributes of analytics datasets: date, ids, and the enrichments users expect beside numbers.

Ids of the reported entity come from the API row; names, statuses and parent ids come from the
entity lists (fetched once per run and shared); account name and currency from the ad account.
"""

from __future__ import annotations

from pinads.catalog.model import Attribute, AttributeSource, ColumnType, Granularity

__all__ = [
    "ACCOUNT_ATTRIBUTES",
    "DATE",
    "HOUR",
    "TARGETING_TYPE",
    "TARGETING_VALUE",
    "entity_attribute",
    "row_id",
]

_S = ColumnType.STRING

DATE = Attribute(
    name="DATE",
    type=ColumnType.DATE,
    description="Day of the row (UTC); first day of the week or month for WEEK and MONTH.",
    source=AttributeSource.ROW,
    field="DATE",
    granularities=(Granularity.DAY, Granularity.HOUR, Granularity.WEEK, Granularity.MONTH),
)
# How Pinterest spells the hour of an hourly row is not in the spec; the runner reads the row
# field named here (the emulator emits it) and stores the hour of day, 0-23 UTC.
HOUR = Attribute(
    name="HOUR",
    type=ColumnType.INT64,
    description="Hour of day of the row, 0-23 UTC (granularity HOUR only).",
    source=AttributeSource.ROW,
    field="HOUR",
    granularities=(Granularity.HOUR,),
)
TARGETING_TYPE = Attribute(
    name="TARGETING_TYPE",
    type=_S,
    description="Pinterest targeting type of the breakdown, e.g. AGE_BUCKET, APPTYPE.",
    source=AttributeSource.ROW,
    field="targeting_type",
)
TARGETING_VALUE = Attribute(
    name="TARGETING_VALUE",
    type=_S,
    description="The breakdown value as Pinterest reports it, e.g. 25-34, female, iphone, US.",
    source=AttributeSource.ROW,
    field="targeting_value",
)

ACCOUNT_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        name="AD_ACCOUNT_ID",
        type=_S,
        description="Ad account id.",
        source=AttributeSource.ACCOUNT,
        field="id",
    ),
    Attribute(
        name="AD_ACCOUNT_NAME",
        type=_S,
        description="Ad account name.",
        source=AttributeSource.ACCOUNT,
        field="name",
    ),
    Attribute(
        name="AD_ACCOUNT_CURRENCY",
        type=_S,
        description="ISO 4217 currency of the account's money metrics (e.g. USD, EUR).",
        source=AttributeSource.ACCOUNT,
        field="currency",
    ),
)


def row_id(name: str, description: str) -> Attribute:
    """The reported entity's id, read from the analytics row (e.g. CAMPAIGN_ID)."""
    return Attribute(
        name=name, type=_S, description=description, source=AttributeSource.ROW, field=name
    )


def entity_attribute(
    name: str, *, entity: str, via: str, field: str, description: str
) -> Attribute:
    """A value looked up in entity dataset `entity` by the id held in attribute `via`."""
    return Attribute(
        name=name,
        type=_S,
        description=description,
        source=AttributeSource.ENTITY,
        field=field,
        entity=entity,
        via=via,
    )


def campaign_details(*, via_parent: str | None) -> tuple[Attribute, ...]:
    """CAMPAIGN_ID (from the row, or from the parent entity) plus name, status, objective."""
    ids = (
        (row_id("CAMPAIGN_ID", "Campaign id."),)
        if via_parent is None
        else (
            entity_attribute(
                "CAMPAIGN_ID",
                entity=via_parent,
                via=_ID_OF[via_parent],
                field="campaign_id",
                description="Campaign id.",
            ),
        )
    )
    return (
        *ids,
        entity_attribute(
            "CAMPAIGN_NAME",
            entity="campaigns",
            via="CAMPAIGN_ID",
            field="name",
            description="Campaign name.",
        ),
        entity_attribute(
            "CAMPAIGN_STATUS",
            entity="campaigns",
            via="CAMPAIGN_ID",
            field="status",
            description="Campaign status: ACTIVE, PAUSED, ARCHIVED...",
        ),
        entity_attribute(
            "CAMPAIGN_OBJECTIVE_TYPE",
            entity="campaigns",
            via="CAMPAIGN_ID",
            field="objective_type",
            description="Campaign objective: AWARENESS, CONSIDERATION, WEB_CONVERSION...",
        ),
    )


def ad_group_details(*, via_parent: str | None) -> tuple[Attribute, ...]:
    """AD_GROUP_ID (from the row or the parent entity) plus name and status."""
    ids = (
        (row_id("AD_GROUP_ID", "Ad group id."),)
        if via_parent is None
        else (
            entity_attribute(
                "AD_GROUP_ID",
                entity=via_parent,
                via=_ID_OF[via_parent],
                field="ad_group_id",
                description="Ad group id.",
            ),
        )
    )
    return (
        *ids,
        entity_attribute(
            "AD_GROUP_NAME",
            entity="ad_groups",
            via="AD_GROUP_ID",
            field="name",
            description="Ad group name.",
        ),
        entity_attribute(
            "AD_GROUP_STATUS",
            entity="ad_groups",
            via="AD_GROUP_ID",
            field="status",
            description="Ad group status: ACTIVE, PAUSED, ARCHIVED...",
        ),
    )


def ad_details() -> tuple[Attribute, ...]:
    """AD_ID from the row plus name, status, creative type and promoted Pin."""
    fields = (
        ("AD_NAME", "name", "Ad name."),
        ("AD_STATUS", "status", "Ad status: ACTIVE, PAUSED, ARCHIVED..."),
        ("AD_CREATIVE_TYPE", "creative_type", "Creative: REGULAR, VIDEO, CAROUSEL, SHOPPING..."),
        ("PIN_ID", "pin_id", "Id of the promoted Pin."),
    )
    return (
        row_id("AD_ID", "Ad id."),
        *(
            entity_attribute(name, entity="ads", via="AD_ID", field=field, description=text)
            for name, field, text in fields
        ),
    )


def product_group_details() -> tuple[Attribute, ...]:
    """PRODUCT_GROUP_ID from the row plus the promoted catalog product group's name, status."""
    fields = (
        ("PRODUCT_GROUP_NAME", "catalog_product_group_name", "Catalog product group name."),
        ("PRODUCT_GROUP_STATUS", "status", "Product group promotion status."),
    )
    return (
        row_id("PRODUCT_GROUP_ID", "Product group (promotion) id."),
        *(
            entity_attribute(
                name,
                entity="product_group_promotions",
                via="PRODUCT_GROUP_ID",
                field=field,
                description=text,
            )
            for name, field, text in fields
        ),
    )


# The attribute holding each entity dataset's own id in analytics rows.
_ID_OF = {
    "ad_groups": "AD_GROUP_ID",
    "ads": "AD_ID",
    "product_group_promotions": "PRODUCT_GROUP_ID",
}
