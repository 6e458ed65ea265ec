"""OTLP/HTTP trace payloads (protobuf and JSON) → span records.

Only the span data Shipyard stores is read; everything else in the payload is ignored.
Ids are hex in OTLP/JSON; base64 (what generic protobuf-to-JSON converters write) is
accepted too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.tracing.mapping import Limits, project_of, to_record
from shipyard.tracing.privacy import OPEN, Policy
from shipyard.tracing.records import SpanRecord

STATUS = {0: "unset", 1: "ok", 2: "error"}
STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


# -- protobuf --------------------------------------------------------------------------------


def _pb_value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which == "string_value":
        return v.string_value
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bool_value":
        return v.bool_value
    if which == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return v.bytes_value.hex()
    return None


def _pb_attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in kvs}


def decode_protobuf(
    body: bytes,
    *,
    limits: Limits,
    policy_for: Callable[[str], Policy] = lambda _p: OPEN,
    project: str | None = None,
) -> list[SpanRecord]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        req = ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise InvalidInput(f"not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
    out: list[SpanRecord] = []
    for rs in req.resource_spans:
        proj = project or project_of(_pb_attrs(rs.resource.attributes))
        policy = policy_for(proj)
        for ss in rs.scope_spans:
            for sp in ss.spans:
                if len(sp.trace_id) != 16 or len(sp.span_id) != 8:
                    raise InvalidInput("span with a trace id not of 16 bytes or span id not of 8")
                events = [
                    {
                        "name": e.name,
                        "time_ns": e.time_unix_nano,
                        "attributes": _pb_attrs(e.attributes),
                    }
                    for e in sp.events
                ]
                out.append(
                    to_record(
                        trace_id=sp.trace_id.hex(),
                        span_id=sp.span_id.hex(),
                        parent_id=sp.parent_span_id.hex() or None,
                        project=proj,
                        name=sp.name,
                        start_ns=sp.start_time_unix_nano,
                        end_ns=sp.end_time_unix_nano,
                        status=STATUS.get(sp.status.code, "unset"),
                        status_message=sp.status.message or None,
                        attrs=_pb_attrs(sp.attributes),
                        events=events,
                        limits=limits,
                        policy=policy,
                    )
                )
    return out


# -- JSON --------------------------------------------------------------------------------------


def _get(d: dict[str, Any], camel: str, snake: str) -> Any:
    v = d.get(camel)
    return d.get(snake) if v is None else v


def _json_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key, conv in (
        ("stringValue", str),
        ("string_value", str),
        ("boolValue", bool),
        ("bool_value", bool),
        ("doubleValue", float),
        ("double_value", float),
    ):
        if key in v:
            return conv(v[key])
    for key in ("intValue", "int_value"):
        if key in v:
            try:
                return int(v[key])
            except (TypeError, ValueError):
                raise InvalidInput(f"intValue {v[key]!r} is not an integer") from None
    arr = _get(v, "arrayValue", "array_value")
    if isinstance(arr, dict):
        return [_json_value(x) for x in arr.get("values") or []]
    kvl = _get(v, "kvlistValue", "kvlist_value")
    if isinstance(kvl, dict):
        return _json_attrs(kvl.get("values") or [])
    b = _get(v, "bytesValue", "bytes_value")
    if b is not None:
        return str(b)
    return None


def _json_attrs(kvs: Any) -> dict[str, Any]:
    if not isinstance(kvs, list):
        return {}
    return {
        str(kv.get("key")): _json_value(kv.get("value"))
        for kv in kvs
        if isinstance(kv, dict) and "key" in kv
    }


def _json_id(value: Any, nbytes: int, what: str, *, optional: bool = False) -> str | None:
    if value in (None, "") and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a hex string")
    text = value.strip()
    if len(text) == nbytes * 2:
        try:
            bytes.fromhex(text)
            return text.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == nbytes:
        return raw.hex()
    if optional and not text.strip("0"):
        return None
    raise InvalidInput(f"{what} {value[:40]!r} is not {nbytes} bytes of hex")


def _nanos(v: Any, what: str) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} {v!r} is not a number of nanoseconds") from None


def _status_code(raw: Any) -> int:
    if isinstance(raw, str):
        return STATUS_NAMES.get(raw, 0) if not raw.isdigit() else int(raw)
    return int(raw or 0) if isinstance(raw, int) else 0


def decode_json(
    body: bytes,
    *,
    limits: Limits,
    policy_for: Callable[[str], Policy] = lambda _p: OPEN,
    project: str | None = None,
) -> list[SpanRecord]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("an OTLP/JSON body is an object with resourceSpans")
    out: list[SpanRecord] = []
    for rs in _get(doc, "resourceSpans", "resource_spans") or []:
        if not isinstance(rs, dict):
            raise InvalidInput("resourceSpans entries must be objects")
        resource = _json_attrs((rs.get("resource") or {}).get("attributes"))
        proj = project or project_of(resource)
        policy = policy_for(proj)
        for ss in _get(rs, "scopeSpans", "scope_spans") or []:
            for sp in (ss.get("spans") if isinstance(ss, dict) else None) or []:
                if not isinstance(sp, dict):
                    raise InvalidInput("spans must be objects")
                status = sp.get("status") or {}
                events = [
                    {
                        "name": e.get("name"),
                        "time_ns": _nanos(_get(e, "timeUnixNano", "time_unix_nano"), "time"),
                        "attributes": _json_attrs(e.get("attributes")),
                    }
                    for e in sp.get("events") or []
                    if isinstance(e, dict)
                ]
                out.append(
                    to_record(
                        trace_id=_json_id(_get(sp, "traceId", "trace_id"), 16, "traceId") or "",
                        span_id=_json_id(_get(sp, "spanId", "span_id"), 8, "spanId") or "",
                        parent_id=_json_id(
                            _get(sp, "parentSpanId", "parent_span_id"),
                            8,
                            "parentSpanId",
                            optional=True,
                        ),
                        project=proj,
                        name=str(sp.get("name") or ""),
                        start_ns=_nanos(
                            _get(sp, "startTimeUnixNano", "start_time_unix_nano"),
                            "startTimeUnixNano",
                        ),
                        end_ns=_nanos(
                            _get(sp, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano"
                        ),
                        status=STATUS.get(_status_code(status.get("code")), "unset"),
                        status_message=status.get("message") or None,
                        attrs=_json_attrs(sp.get("attributes")),
                        events=events,
                        limits=limits,
                        policy=policy,
                    )
                )
    return out
