"""Retraining: an alert runs the endpoint's registered pipeline; the model it registers becomes
``challenger``; champion and challenger predict the endpoint's recent labeled rows; the
challenger replaces the champion only if it wins on the chosen metric by the margin. Every
decision, promotion or not, is written to the audit log (action ``ml.promote`` or
``ml.reject``), and a promotion is also an alias move with its reason.

A pipeline parameter named ``recent_data`` receives the endpoint's labeled rows of the monitor's
window (the features and a ``label`` column), so a pipeline can learn from what production saw;
the newest ``holdout`` share of them (30% by default) is kept back, and the two models are
compared on those rows only, which the challenger has never seen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from shipyard.core import audit
from shipyard.core.errors import InvalidInput
from shipyard.core.ids import now_ms
from shipyard.ml.log import classification_metrics, regression_metrics
from shipyard.ml.monitor import HIGHER_IS_BETTER, MonitorSpec

if TYPE_CHECKING:
    from shipyard.core.identity import Actor
    from shipyard.ml.models import LoadedModel
    from shipyard.ml.serving import ServingService
    from shipyard.sdk import Client

log = logging.getLogger("shipyard.ml.retrain")
CHALLENGER = "challenger"


class Decision(BaseModel):
    outcome: Literal["promoted", "rejected", "not compared"]
    endpoint: str
    model: str
    alias: str
    champion: int | None
    challenger: int | None
    metric: str
    champion_value: float | None = None
    challenger_value: float | None = None
    margin: float
    labeled: int = 0  # labeled rows both models were judged on (none the challenger saw)
    trained_on: int = 0  # labeled rows passed to the pipeline as recent_data
    pipeline: str
    run_id: str | None = None
    reason: str
    message: str


def score(model: LoadedModel, frame: Any, labels: list[Any], metric: str) -> float | None:
    """The model's ``metric`` on labeled rows."""
    predictions = [x.item() if hasattr(x, "item") else x for x in model.predict(frame)]
    if metric in ("mae", "rmse", "r2"):
        return regression_metrics(labels, predictions).get(metric)
    scores: list[float | None] = [None] * len(labels)
    positive = model.classes[1] if model.binary and model.classes else None
    if model.binary:
        scores = [float(p) for p in model.predict_proba(frame)[:, 1]]
    return classification_metrics(labels, predictions, scores, positive).get(metric)


class Retrainer:
    def __init__(self, client: Callable[[], Client], serving: ServingService,
                 predictions: Any, actor: Actor) -> None:  # fmt: skip
        self.client, self.serving, self.predictions = client, serving, predictions
        self.actor = actor

    def __call__(self, endpoint: str, reason: str) -> Decision:
        from shipyard.ml.pipelines.targets import RECENT, registered_pipeline

        spec = self.serving.spec(endpoint)
        mon = spec.monitor or MonitorSpec()
        if mon.retrain is None:
            raise InvalidInput(f"{endpoint} has no retrain section in its monitor")
        rule, client = mon.retrain, self.client()
        pipe_spec, pipe = registered_pipeline(client, rule.pipeline)
        if not pipe.model or (pipe.register and pipe.register != spec.model):
            made = f"registers {pipe.register!r}" if pipe.model else "has no model output"
            raise InvalidInput(f"pipeline {rule.pipeline} {made}, but {endpoint} serves "
                               f"{spec.model!r}")  # fmt: skip
        champion = client.registry.resolve(f"{spec.model}@{spec.alias}").version
        self.serving.flush()
        frame, labels = self.predictions.labeled(endpoint, now_ms() - int(mon.window_s * 1000))
        params = dict(pipe_spec.params)
        trained_on = 0
        if RECENT in pipe.params:  # the older labeled rows to learn from; the newest to judge
            held = min(len(labels), math.ceil(len(labels) * rule.holdout))
            if len(labels) - held < 1:
                raise InvalidInput(f"{endpoint} has no labeled rows in the last "
                                   f"{mon.window_s:g} s to pass as {RECENT}")  # fmt: skip
            trained_on = len(labels) - held
            params[RECENT] = frame.iloc[held:].assign(label=labels[held:]).reset_index(drop=True)
            if held:
                frame, labels = frame.iloc[:held].reset_index(drop=True), labels[:held]
        result = pipe.run(params, client=client, executor=pipe_spec.executor, alias=CHALLENGER,
                          register=spec.model)  # fmt: skip
        challenger = result.model.version if result.model else None
        base: dict[str, Any] = {"endpoint": endpoint, "model": spec.model, "alias": spec.alias,
                "champion": champion, "challenger": challenger, "metric": rule.metric,
                "margin": rule.margin, "pipeline": rule.pipeline, "run_id": result.run_id,
                "reason": reason, "trained_on": trained_on}  # fmt: skip
        if challenger is None or challenger == champion:
            return self._decide(
                Decision(outcome="rejected", **base, message="the pipeline made the champion again")
            )
        if len(labels) < rule.min_labels:
            return self._decide(Decision(
                outcome="not compared", labeled=len(labels), **base,
                message=f"{len(labels)} labeled rows in the window, {rule.min_labels} needed",
            ))  # fmt: skip
        return self._compare(base, frame, labels, rule.margin)

    def _compare(self, base: dict[str, Any], frame: Any, labels: list[Any],
                 margin: float) -> Decision:  # fmt: skip
        model, metric = base["model"], base["metric"]
        old = self.serving.load_version(model, base["champion"])
        new = self.serving.load_version(model, base["challenger"])
        a, b = score(old, frame, labels, metric), score(new, frame, labels, metric)
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            undefined = f"{metric} is undefined on these rows"
            return self._decide(Decision(outcome="not compared", labeled=len(labels), **base,
                                         champion_value=a, challenger_value=b,
                                         message=undefined))  # fmt: skip
        gain = (b - a) if HIGHER_IS_BETTER[metric] else (a - b)
        wins = gain > 0 and gain >= margin
        verdict = "wins" if wins else "does not win"
        message = (f"challenger v{base['challenger']} {verdict}: {metric} {b:.4f} against "
                   f"champion v{base['champion']} {a:.4f} (gain {gain:+.4f}, margin {margin}) "
                   f"on {len(labels)} labeled rows")  # fmt: skip
        return self._decide(Decision(outcome="promoted" if wins else "rejected",
                                     labeled=len(labels), champion_value=a, challenger_value=b,
                                     message=message, **base))  # fmt: skip

    def _decide(self, d: Decision) -> Decision:
        if d.outcome == "promoted":
            assert d.challenger is not None
            self.client().registry.set_alias(d.model, d.alias, d.challenger,
                                             reason=f"retraining: {d.message}")  # fmt: skip
        action = "ml.promote" if d.outcome == "promoted" else "ml.reject"
        before = {"version": d.champion, d.metric: d.champion_value}
        after = d.model_dump(mode="json")
        with self.serving.registry.db.write() as s:
            audit.record(s, self.actor, action, "model", d.model, before=before, after=after)
        log.info("%s: %s", d.endpoint, d.message)
        return d
