"""The public SDK's export list is complete and every name in it exists."""

from __future__ import annotations

import shipyard


def test_all_exports_exist() -> None:
    for name in shipyard.__all__:
        assert hasattr(shipyard, name), name


def test_every_public_name_is_exported() -> None:
    public = {
        name
        for name, value in vars(shipyard).items()
        if not name.startswith("_") and not isinstance(value, type(shipyard))
    }
    assert public - set(shipyard.__all__) == set()
    assert (shipyard.__file__ or "").endswith("__init__.py")


def test_py_typed_is_shipped() -> None:
    from pathlib import Path

    assert (Path(shipyard.__file__ or "").parent / "py.typed").exists()
