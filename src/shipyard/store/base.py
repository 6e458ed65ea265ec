"""The declarative base every domain's tables derive from (one metadata, one migration chain)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {int: BigInteger, dict[str, Any]: JSON, list[Any]: JSON}


def load_all_models() -> MetaData:
    """Import every domain's tables so the metadata is complete (for migrations and tests)."""
    from shipyard.core import audit, auth  # noqa: F401
    from shipyard.evals import models as _evals  # noqa: F401
    from shipyard.gateway import models as _gateway  # noqa: F401
    from shipyard.ml import records as _ml  # noqa: F401
    from shipyard.registry import models as _registry  # noqa: F401
    from shipyard.tracing import models as _tracing  # noqa: F401
    from shipyard.tracking import models as _tracking  # noqa: F401

    return Base.metadata
