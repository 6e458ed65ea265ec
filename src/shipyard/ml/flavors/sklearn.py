"""``sklearn``: scikit-learn estimators and pipelines, saved with skops.

skops stores the object tree without pickle and, on load, builds only types it is told to
trust. Shipyard trusts what scikit-learn, NumPy and SciPy define; a model holding anything else
loads only when the caller names those types (``trusted=[...]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.core.errors import PermissionDenied
from shipyard.ml.flavors.base import Flavor, pins, register_flavor

FILE = "model.skops"
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")
# Estimators whose predict is the class of highest predict_proba (or of a monotonic score),
# ties to the first class: their scored predictions come from one call.
ARGMAX_OF_PROBA = {
    "RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier",
    "ExtraTreeClassifier", "GradientBoostingClassifier", "HistGradientBoostingClassifier",
    "LogisticRegression", "KNeighborsClassifier", "GaussianNB", "BernoulliNB", "MultinomialNB",
    "ComplementNB",
}  # fmt: skip


@register_flavor
class SklearnFlavor(Flavor):
    name = "sklearn"
    priority = 10

    @classmethod
    def handles(cls, model: Any) -> bool:
        try:
            from sklearn.base import BaseEstimator
        except ImportError:
            return False
        return isinstance(model, BaseEstimator)

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import skops.io as sio

        sio.dump(model, folder / FILE)
        methods = [m for m in ("predict_proba", "decision_function") if hasattr(model, m)]
        classes = getattr(model, "classes_", None)
        return {"file": FILE, "methods": methods,
                "classes": [c.item() if hasattr(c, "item") else c for c in classes]
                if classes is not None else None}  # fmt: skip

    def load(self, folder: Path, options: dict[str, Any], trusted: list[str] | None = None) -> Any:
        import skops.io as sio

        path = folder / options.get("file", FILE)
        allowed = set(trusted or [])
        unknown = [t for t in sio.get_untrusted_types(file=path)
                   if t.split(".")[0] not in TRUSTED_PACKAGES and t not in allowed]  # fmt: skip
        if unknown:
            raise PermissionDenied(
                f"the model holds types outside scikit-learn, NumPy and SciPy: "
                f"{', '.join(unknown)}; load it with trusted=[...] naming them if you trust it"
            )
        return sio.load(path, trusted=sio.get_untrusted_types(file=path))

    def predict_scored(self, model: Any, frame: Any) -> tuple[Any, Any]:
        classes = getattr(model, "classes_", None)
        if classes is None or len(classes) != 2 or not hasattr(model, "predict_proba"):
            return model.predict(frame), None
        proba = model.predict_proba(frame)
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        if type(final).__name__ in ARGMAX_OF_PROBA:
            return classes[proba.argmax(axis=1)], proba[:, 1]  # one pass instead of two
        return model.predict(frame), proba[:, 1]

    def requirements(self, model: Any) -> list[str]:
        return pins("scikit-learn", "numpy", "scipy", "skops")
