"""The `sort` parameter of the API's lists: the same columns the pages sort by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Query

from qms.pagination import sort_choices


def sort_query(columns: Mapping[str, Any]) -> Any:
    """Return the `sort` query parameter of a list sorted by these columns, its values named in
    the OpenAPI; any other value is refused by the list with a 422 naming `sort`."""
    return Query(
        max_length=50,
        description="Sort by a column, or with a minus sign before it the other way round "
        "(empty values last either way); then newest first. Pages continue by their cursor.",
        json_schema_extra={"enum": sort_choices(columns)},
    )
