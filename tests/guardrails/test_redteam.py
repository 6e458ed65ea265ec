"""`shipyard redteam` against a live route: without a policy the echoing model lets the
injection attacks through; behind a policy they are blocked. Each result names its trace."""

from __future__ import annotations

import json

from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.core.identity import Actor
from shipyard.guardrails.redteam import attack_route
from shipyard.registry.schemas import CreateVersion, Kind
from shipyard.sdk import Client
from tests.gateway.conftest import Gateway, fake, gw  # noqa: F401  (fixtures used here)
from tests.helpers.fake_llm import FakeLLM


def test_attacks_get_through_an_open_route_and_not_a_guarded_one(
    gw: Gateway, fake: FakeLLM
) -> None:
    gw.upstream("fake", fake)
    gw.route("open", targets=[{"upstream": "fake", "model": "echo"}])
    reg, actor = gw.platform.registry, Actor.local()
    spec = {"pre_call": [{"check": "injection", "action": "block"}, {"check": "pii", "action": "redact"}],
            "post_call": [{"check": "pii", "action": "redact"}]}  # fmt: skip
    v = reg.create_version(actor, "guard", CreateVersion(payload=spec), kind=Kind.policy)
    reg.set_alias(actor, "guard", "production", v.version)
    gw.route("guarded", targets=[{"upstream": "fake", "model": "echo"}], policy="guard")
    with Client(url=gw.url) as client:
        open_report = attack_route(client, "open")
        guarded = attack_route(client, "guarded")
    through = {r.id for r in open_report.got_through}
    assert {"inj-override", "jb-dan", "jb-devmode"} <= through  # the echo repeats the canary
    assert all(r.trace_id for r in open_report.results)
    assert not any(
        r.category == "injection" and r.outcome == "got through" for r in guarded.results
    )
    assert {r.outcome for r in guarded.results if r.category == "injection"} == {"blocked"}
    trace = gw.trace(guarded.results[0].trace_id or "")
    assert any(s["kind"] == "guardrail" for s in trace["spans"])

    out = CliRunner().invoke(cli, ["redteam", "--route", "guarded", "--json"],
                             env={"SHIPYARD_URL": gw.url}, catch_exceptions=False)  # fmt: skip
    body = json.loads(out.output)
    assert body["target"] == "route guarded" and body["attacks"] == 13
    assert body["blocked"] >= 5
    failing = CliRunner().invoke(cli, ["redteam", "--route", "open", "--fail"],
                                 env={"SHIPYARD_URL": gw.url})  # fmt: skip
    assert failing.exit_code == 3 and "GOT THROUGH" in failing.output
