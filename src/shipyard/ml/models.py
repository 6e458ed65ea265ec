"""Logging and loading models: a manifest (flavor, signature, input example, requirements, the
sha256 of every file) plus the flavor's files, content-addressed.

``log_model`` registers a version of kind ``model`` (its payload is the manifest; its source run
is the active run), or, with ``register=False``, keeps the files as artifacts of the run.
``load_model`` takes ``models:/NAME@ALIAS``, ``models:/NAME/3``, ``models:/NAME`` (the
``production`` alias) or ``runs:/RUN_ID/models/NAME``; every file is checked against its
digest before the flavor reads it.
"""

from __future__ import annotations

import hashlib
import platform as _platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from shipyard.core.errors import InvalidInput, StoreError
from shipyard.ml.flavors.base import FLAVORS, Flavor, flavor_for
from shipyard.ml.signature import Signature, as_frame, infer_signature
from shipyard.registry.schemas import Kind, with_article

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.ml.drift import Profile
    from shipyard.sdk import Client

FORMAT = 1
MANIFEST = "manifest.json"
REFERENCE = "reference.json"  # the training data's profile (drift)
PREDICTION = "prediction"  # the model's output, as a column of the reference profile
EXAMPLE_ROWS = 5


class ModelInfo(BaseModel):
    name: str
    uri: str
    flavor: str
    version: int | None = None
    run_id: str | None = None
    signature: Signature


class LoadedModel:
    """A model ready to predict: input checked against its signature, then the flavor's call."""

    def __init__(self, manifest: dict[str, Any], flavor: Flavor, native: Any, uri: str,
                 version: int | None = None) -> None:  # fmt: skip
        self.manifest = manifest
        self.flavor = flavor
        self.native = native
        self.uri = uri
        self.version = version
        self.name = str(manifest.get("name", ""))
        self.signature = Signature.model_validate(manifest["signature"])
        options = manifest.get("flavor_options") or {}
        classes = options.get("classes")
        # a binary classifier: its second class is the positive one (scores, ROC AUC)
        self.binary = bool(classes and len(classes) == 2
                           and "predict_proba" in options.get("methods", []))  # fmt: skip
        self.classes: list[Any] | None = classes
        self.reference: Profile | None = None  # logged with reference_data=

    def __repr__(self) -> str:
        return f"<LoadedModel {self.uri} flavor={self.flavor.name}>"

    def predict(self, data: Any) -> Any:
        """Outputs for records, a column dict, a DataFrame or an array (checked first)."""
        return self.flavor.predict(self.native, self.prepare(data))

    def prepare(self, data: Any) -> pd.DataFrame:
        import numpy as np

        if isinstance(data, np.ndarray):
            data = as_frame(data, self.signature.columns)
        return self.signature.check(data)

    def predict_proba(self, data: Any) -> Any:
        method = getattr(self.native, "predict_proba", None)
        if not callable(method):
            raise InvalidInput(f"{self.name} gives no class probabilities")
        return method(self.prepare(data))


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _example(example: Any) -> list[dict[str, Any]] | None:
    if example is None:
        return None
    frame = as_frame(example).head(EXAMPLE_ROWS)
    return list(orjson.loads(frame.to_json(orient="records", date_format="iso")))


def build(
    model: Any, name: str, folder: Path, *, flavor: str | None = None,
    input_example: Any = None, signature: Signature | None = None,
    requirements: list[str] | None = None, run_id: str | None = None,
    reference_data: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Write the model's files into ``folder``; return its manifest."""
    chosen = flavor_for(model, flavor)
    if signature is None:
        if input_example is None:
            raise InvalidInput("give input_example= (a few rows) or signature= so requests can "
                               "be checked")  # fmt: skip
        frame = as_frame(input_example)
        try:
            output = chosen.predict(model, frame)
        except Exception as exc:  # the model's own error on its own example
            raise InvalidInput(f"the model fails on its input example: {exc}") from None
        signature = infer_signature(frame, output)
    options = chosen.save(model, folder)
    if reference_data is not None:
        _save_reference(chosen, model, as_frame(reference_data), folder)
    files = {p.name: _digest(p) for p in sorted(folder.iterdir()) if p.is_file()}
    return {
        "format": FORMAT, "kind": "model", "name": name, "flavor": chosen.name,
        "flavor_options": options, "files": files,
        "signature": signature.model_dump(mode="json"), "input_example": _example(input_example),
        "requirements": requirements or chosen.requirements(model),
        "reference": REFERENCE if reference_data is not None else None,
        "python": _platform.python_version(), "model_class": type(model).__module__ + "."
        + type(model).__qualname__, "run_id": run_id, "created_ms": int(time.time() * 1000),
    }  # fmt: skip


def _save_reference(flavor: Flavor, model: Any, frame: pd.DataFrame, folder: Path) -> None:
    """The profile of the training data plus the model's predictions on it: what production
    windows are compared with (summaries only, never the rows)."""
    import numpy as np

    from shipyard.ml.drift import Profile

    out = np.asarray(flavor.predict(model, frame))
    profiled = frame.copy()
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        profiled[PREDICTION] = out.reshape(-1)
    (folder / REFERENCE).write_bytes(orjson.dumps(Profile.from_frame(profiled).to_json()))


def log_model(
    client: Client, model: Any, name: str, *, register: bool = True, flavor: str | None = None,
    input_example: Any = None, signature: Signature | None = None,
    requirements: list[str] | None = None, run_id: str | None = None, description: str = "",
    tags: dict[str, str] | None = None, reference_data: Any = None,
) -> ModelInfo:  # fmt: skip
    from shipyard.sdk import active_run

    if run_id is None and (run := active_run()) is not None:
        run_id = run.id
    if not register and run_id is None:
        raise InvalidInput("register=False keeps the model in a run: start a run first")
    folder = Path(tempfile.mkdtemp(prefix="shipyard-model-"))
    try:
        manifest = build(model, name, folder, flavor=flavor, input_example=input_example,
                         signature=signature, requirements=requirements, run_id=run_id,
                         reference_data=reference_data)  # fmt: skip
        (folder / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        if run_id is not None:
            for path in sorted(folder.iterdir()):
                client.tracking.log_artifact(run_id, path, f"models/{name}/{path.name}")
        version = None
        if register:
            for file_name in manifest["files"]:
                client.registry.upload_artifact(folder / file_name)
            version = client.registry.create_version(
                name, kind=Kind.model, payload=manifest, artifact=folder / MANIFEST,
                source_run_id=run_id, description=description, tags=tags,
            ).version  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    uri = f"models:/{name}/{version}" if version is not None else f"runs:/{run_id}/models/{name}"
    signature_out = Signature.model_validate(manifest["signature"])
    return ModelInfo(name=name, uri=uri, flavor=manifest["flavor"], version=version,
                     run_id=run_id, signature=signature_out)  # fmt: skip


def _fetch_registered(client: Client, ref: str, folder: Path) -> tuple[dict[str, Any], int]:
    version = client.registry.resolve(ref)
    if version.kind != Kind.model:
        raise InvalidInput(f"{ref} is {with_article(version.kind)}, not a model")
    manifest = dict(version.payload or {})
    for file_name, digest in manifest.get("files", {}).items():
        client.registry.download_artifact(digest, folder / file_name)
    return manifest, version.version


def _fetch_run(client: Client, run_id: str, path: str, folder: Path) -> dict[str, Any]:
    client.tracking.download_artifact(run_id, f"{path}/{MANIFEST}", folder / MANIFEST)
    manifest = dict(orjson.loads((folder / MANIFEST).read_bytes()))
    for file_name in manifest.get("files", {}):
        client.tracking.download_artifact(run_id, f"{path}/{file_name}", folder / file_name)
    return manifest


def verify(manifest: dict[str, Any], folder: Path, what: str) -> None:
    """Every file must hash to the digest recorded when the model was logged."""
    for file_name, digest in manifest.get("files", {}).items():
        found = _digest(folder / file_name)
        if found != digest:
            raise StoreError(f"{what}: {file_name} fails its hash check (expected "
                             f"{digest[:12]}…, found {found[:12]}…); not loaded")  # fmt: skip


def open_model(
    manifest: dict[str, Any], folder: Path, uri: str, version: int | None = None,
    trusted: list[str] | None = None,
) -> LoadedModel:  # fmt: skip
    """A model from its manifest and its files, already in ``folder`` (checked here)."""
    if manifest.get("kind") != "model" or "flavor" not in manifest:
        raise InvalidInput(f"{uri} holds no Shipyard model manifest")
    verify(manifest, folder, uri)
    flavor = FLAVORS.get(manifest["flavor"])()
    native = flavor.load(folder, manifest.get("flavor_options", {}), trusted=trusted)
    loaded = LoadedModel(manifest, flavor, native, uri, version)
    found = getattr(native, "classes_", None)
    if loaded.classes is None and found is not None and hasattr(native, "predict_proba"):
        loaded.classes = [c.item() if hasattr(c, "item") else c for c in found]  # not recorded
        loaded.binary = len(loaded.classes) == 2
    if manifest.get("reference"):
        from shipyard.ml.drift import Profile

        loaded.reference = Profile.from_json(orjson.loads((folder / REFERENCE).read_bytes()))
    return loaded


def load_model(client: Client, uri: str, *, trusted: list[str] | None = None) -> LoadedModel:
    folder = Path(tempfile.mkdtemp(prefix="shipyard-load-"))
    try:
        version = None
        if uri.startswith("models:/"):
            manifest, version = _fetch_registered(client, uri[len("models:/") :], folder)
        elif uri.startswith("runs:/"):
            run_id, _, path = uri[len("runs:/") :].partition("/")
            if not run_id or not path:
                raise InvalidInput(f"{uri}: use runs:/RUN_ID/models/NAME")
            manifest = _fetch_run(client, run_id, path, folder)
        else:
            raise InvalidInput(f"{uri}: use models:/NAME@ALIAS, models:/NAME/VERSION or "
                               f"runs:/RUN_ID/models/NAME")  # fmt: skip
        return open_model(manifest, folder, uri, version, trusted)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
