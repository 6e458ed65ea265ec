"""Shipyard: one platform for classic ML models and LLM applications.

Embedded by default (a SQLite store in ``SHIPYARD_HOME``); remote when
``SHIPYARD_URL`` points at a ``shipyard server``.
"""

from shipyard import prompts
from shipyard.core.errors import (
    ApprovalRequired,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RemoteError,
    ShipyardError,
    Unauthenticated,
    ValidationFailed,
)
from shipyard.core.settings import Settings
from shipyard.sdk import (
    Client,
    active_run,
    end_run,
    feedback,
    flush,
    get_client,
    get_run,
    log_artifact,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_client,
    set_tag,
    set_tags,
    span,
    start_run,
    trace,
)
from shipyard.tracing.sdk import current_span
from shipyard.tracking.run import ActiveRun

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "ApprovalRequired",
    "Client",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "RemoteError",
    "Settings",
    "ShipyardError",
    "Unauthenticated",
    "ValidationFailed",
    "__version__",
    "active_run",
    "current_span",
    "end_run",
    "feedback",
    "flush",
    "get_client",
    "get_run",
    "log_artifact",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "prompts",
    "search_runs",
    "set_client",
    "set_tag",
    "set_tags",
    "span",
    "start_run",
    "trace",
]
