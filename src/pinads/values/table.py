"""Tables as pinads writes them: column and table specs, and the write modes that meet old rows."""

from __future__ import annotations

import enum
import re

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["SHADOW_SUFFIX", "ColumnSpec", "TableSpec", "WriteMode", "shadow_name"]

# Identifiers are quoted everywhere, but keeping them to this shape means a table name is also a
# safe file name and needs no quoting in the user's own SQL. 63 is PostgreSQL's identifier limit.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A replace run writes into `<table>__pinads_shadow` until finish_replace swaps it in.
SHADOW_SUFFIX = "__pinads_shadow"
_MAX_TABLE_NAME = 63 - len(SHADOW_SUFFIX)


def shadow_name(table_name: str) -> str:
    """Name of the table (or dataset) a replace run writes into before it is swapped in."""
    return f"{table_name}{SHADOW_SUFFIX}"


class WriteMode(enum.StrEnum):
    """How the rows of a step meet the rows already in the table."""

    UPSERT = "upsert"  # insert new keys, overwrite existing keys (analytics default)
    APPEND = "append"  # keep every snapshot; no key constraint
    REPLACE = "replace"  # the run's rows become the whole table (swapped in at the end)
    INSERT_IGNORE = "insert_ignore"  # insert new keys, keep the existing row for known keys

    @property
    def uses_key(self) -> bool:
        return self is not WriteMode.APPEND

    @classmethod
    def _missing_(cls, value: object) -> WriteMode | None:
        """Dataddo's names (insert, insert ignore, truncate insert, upsert), and any mode
        spelt with spaces, hyphens or capitals, so a config moved from Dataddo keeps working."""
        if not isinstance(value, str):
            return None
        spelt = re.sub(r"[\s_-]+", "_", value.strip().lower())
        return _WRITE_MODE_ALIASES.get(spelt) or next((m for m in cls if m.value == spelt), None)


_WRITE_MODE_ALIASES = {
    "insert": WriteMode.APPEND,
    "truncate_insert": WriteMode.REPLACE,
    "truncate_and_insert": WriteMode.REPLACE,
}


class ColumnSpec(BaseModel):
    """One column: its name (lowercase API spelling or `_pinads_*`), Arrow type, nullability."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(description="Column name, e.g. `spend_in_micro_dollar`.")
    arrow_type: pa.DataType = Field(description="Arrow type of the column's values.")
    nullable: bool = Field(default=True, description="False when a value is always present.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                f"column name {value!r} must be letters, digits and _ (not starting with a digit)"
            )
        return value

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.arrow_type, nullable=self.nullable)


class TableSpec(BaseModel):
    """A destination table: name, ordered columns and the natural key (empty for no key)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(description="Table name, usually the source's name.")
    columns: tuple[ColumnSpec, ...] = Field(description="Columns in table order.")
    key: tuple[str, ...] = Field(default=(), description="Natural key columns (upsert key).")
    grain: str | None = Field(
        default=None,
        description="What a row of the table is (a source's level, granularity, key and "
        "attribution settings, as JSON): a destination refuses to write rows of one grain into "
        "a table it created for another. None: not checked.",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value) or len(value) > _MAX_TABLE_NAME:
            raise ValueError(
                f"table name {value!r} must be letters, digits and _ (not starting with a digit), "
                f"at most {_MAX_TABLE_NAME} characters"
            )
        if value.startswith("_pinads_") or value.endswith(SHADOW_SUFFIX):
            raise ValueError(f"table name {value!r} uses a prefix or suffix reserved by pinads")
        return value

    @model_validator(mode="after")
    def _check_columns(self) -> TableSpec:
        names = [c.name for c in self.columns]
        if not names:
            raise ValueError(f"table {self.name!r} needs at least one column")
        lowered = [n.lower() for n in names]
        duplicates = sorted({n for n in lowered if lowered.count(n) > 1})
        if duplicates:
            raise ValueError(f"table {self.name!r} repeats columns {duplicates}")
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"key columns {missing} are not columns of table {self.name!r}")
        return self

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([c.field for c in self.columns])

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def renamed(self, name: str) -> TableSpec:
        """The same spec under another name (shadow tables of replace runs)."""
        return TableSpec.model_construct(
            name=name, columns=self.columns, key=self.key, grain=self.grain
        )
