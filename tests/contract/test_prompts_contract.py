"""Prompts behave the same embedded and remote, on SQLite and PostgreSQL: versions, labels
(registry aliases), history, rollback, dedupe, diff, validation, protection and rendering."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shipyard import ApprovalRequired, Conflict, InvalidInput, NotFound
from shipyard.prompts.prompt import Prompt
from shipyard.registry.schemas import UpdateEntry
from shipyard.sdk import Client
from tests.conftest import unique

TEXT = "Answer the question below.\nQuestion: {{ question }}\nTone: {{ tone }}\n"
CHAT = [
    {"role": "system", "content": "You are a {{ persona }} support agent."},
    {"role": "user", "content": "{{ question }}"},
]


def _text(client: Client, name: str, template: str = TEXT, **config: Any) -> Prompt:
    config = {
        "variables": ["question", "tone"],
        "defaults": {"tone": "friendly"},
        "model": "gpt-4o-mini",
        "params": {"temperature": 0.2, "max_tokens": 64},
        **config,
    }
    return client.prompts.create(name, template, **config)


# -- creating and fetching --------------------------------------------------------------------


def test_text_and_chat_prompts_keep_their_spec(client: Client) -> None:
    name, chat = unique("answer"), unique("support")
    p = _text(client, name, description="first cut", metadata={"owner": "docs"})
    assert (p.name, p.version, p.type) == (name, 1, "text")
    assert p.variables == ["question", "tone"]
    c = client.prompts.create(chat, messages=CHAT, route="support-route", params={"seed": 7})
    assert (c.version, c.type, c.variables) == (1, "chat", ["persona", "question"])

    got = client.prompts.get(name, version=1)
    assert got.spec.template == TEXT
    assert got.spec.defaults == {"tone": "friendly"}
    assert got.spec.model == "gpt-4o-mini" and got.spec.target == "gpt-4o-mini"
    assert got.spec.params.temperature == 0.2 and got.spec.params.max_tokens == 64
    assert got.spec.metadata == {"owner": "docs"}
    assert got.data.description == "first cut" and got.data.created_by
    assert got.data.content_hash == p.data.content_hash and not got.is_fallback

    got_chat = client.prompts.get(chat, "latest")
    assert [(m.role, m.content) for m in got_chat.spec.messages or []] == [
        (m["role"], m["content"]) for m in CHAT
    ]
    assert got_chat.spec.route == "support-route" and got_chat.spec.params.seed == 7

    listed = {s.name: s for s in client.prompts.list(search=name)}
    assert list(listed) == [name] and listed[name].latest_version == 1
    assert [v.version for v in client.prompts.versions(name)] == [1]


def test_get_by_label_version_latest_and_default_production(client: Client) -> None:
    name = unique("qa")
    for i in range(3):
        _text(client, name, f"v{i + 1}: {{{{ question }}}} {{{{ tone }}}}")
    with pytest.raises(NotFound) as info:
        client.prompts.get(name)  # no production label yet: an error, not a silent default
    assert "production" in str(info.value)
    client.prompts.set_label(name, "production", 2, "launch")
    client.prompts.set_label(name, "staging", 3)
    assert client.prompts.get(name).version == 2
    assert client.prompts.get(name, "production").version == 2
    assert client.prompts.get(name, "staging").version == 3
    assert client.prompts.get(name, "latest").version == 3
    assert client.prompts.get(name, version=1).render(question="q") == "v1: q friendly"
    assert client.prompts.get(name).labels == ["production"]
    _text(client, name, "v4: {{ question }} {{ tone }}")
    assert client.prompts.get(name, "latest").version == 4  # latest moves by itself
    assert client.prompts.get(name).version == 2  # production does not
    with pytest.raises(NotFound):
        client.prompts.get(name, version=99)
    with pytest.raises(NotFound):
        client.prompts.get(unique("nosuch"))
    with pytest.raises(InvalidInput):
        client.prompts.set_label(name, "latest", 1)
    with pytest.raises(InvalidInput):
        client.prompts.create(unique("p"), "x", labels=["latest"])


def test_unknown_label_is_a_404_even_with_a_fallback(client: Client) -> None:
    name = unique("greet")
    client.prompts.create(name, "Hello {{ name }}", labels=["production"])
    with pytest.raises(NotFound) as info:
        client.prompts.get(name, "staging", fallback="Hi {{ name }}")
    assert info.value.status == 404 and "staging" in str(info.value)
    assert "production" in str(info.value)  # the error says which labels exist
    with pytest.raises(NotFound):
        client.prompts.get(unique("missing"), fallback="Hi {{ name }}")


def test_creating_with_labels_moves_them(client: Client) -> None:
    name = unique("lbl")
    client.prompts.create(name, "one {{ x }}", labels=["production", "staging"])
    p2 = client.prompts.create(name, "two {{ x }}", labels=["staging"])
    assert p2.labels == ["staging"]
    assert client.prompts.get(name).render(x=1) == "one 1"
    assert client.prompts.get(name, "staging").render(x=1) == "two 1"
    summary = client.prompts.list(search=name)[0]
    assert summary.labels == {"production": 1, "staging": 2} and summary.latest_version == 2


# -- labels: history and rollback -------------------------------------------------------------


def test_label_moves_are_recorded_and_rollback_moves_back(client: Client) -> None:
    name = unique("hist")
    for i in range(3):
        client.prompts.create(name, f"v{i + 1} {{{{ x }}}}")
    client.prompts.set_label(name, "production", 1, "launch")
    client.prompts.set_label(name, "production", 2, "warmer tone")
    ev = client.prompts.set_label(name, "production", 3, "shorter")
    assert (ev.from_version, ev.to_version, ev.action, ev.reason) == (2, 3, "set", "shorter")
    assert client.prompts.get(name).version == 3

    back = client.prompts.rollback(name, "production", "v3 confused users")
    assert (back.from_version, back.to_version, back.action) == (3, 2, "rollback")
    assert client.prompts.get(name).version == 2  # the cached copy did not survive the move
    assert client.prompts.get(name).render(x="!") == "v2 !"

    client.prompts.set_label(name, "staging", 3)
    history = client.prompts.history(name, "production")
    assert [(e.action, e.from_version, e.to_version, e.reason) for e in history] == [
        ("set", None, 1, "launch"),
        ("set", 1, 2, "warmer tone"),
        ("set", 2, 3, "shorter"),
        ("rollback", 3, 2, "v3 confused users"),
    ]
    assert all(e.actor and e.time_ms > 0 and e.name == name for e in history)
    assert [e.alias for e in client.prompts.history(name)] == ["production"] * 4 + ["staging"]

    client.prompts.delete_label(name, "staging", "done testing")
    with pytest.raises(NotFound):
        client.prompts.get(name, "staging")
    assert client.prompts.history(name, "staging")[-1].action == "delete"


def test_rollback_without_an_earlier_target_is_refused(client: Client) -> None:
    name = unique("rb")
    client.prompts.create(name, "only {{ x }}", labels=["production"])
    with pytest.raises(Conflict):
        client.prompts.rollback(name, "production")
    assert client.prompts.get(name).version == 1


# -- dedupe and diff --------------------------------------------------------------------------


def test_same_spec_gives_the_same_version(client: Client) -> None:
    name = unique("dedupe")
    a = _text(client, name)
    b = _text(client, name)
    assert b.version == a.version == 1
    assert b.data.content_hash == a.data.content_hash
    assert [v.version for v in client.prompts.versions(name)] == [1]
    changed = _text(client, name, params={"temperature": 0.9, "max_tokens": 64})
    assert changed.version == 2 and changed.data.content_hash != a.data.content_hash
    forced = _text(client, name, params={"temperature": 0.9, "max_tokens": 64}, dedupe=False)
    assert forced.version == 3
    assert _text(client, name).version == 4  # back to the first spec: a new version on top


def test_diff_shows_changed_template_lines_and_fields(client: Client) -> None:
    name = unique("diff")
    _text(client, name)
    edited = TEXT.replace("Tone: {{ tone }}", "Answer in a {{ tone }} tone.")
    _text(client, name, edited, model="gpt-4o")
    d = client.prompts.diff(name, 1, 2)
    assert (d.name, d.from_version, d.to_version) == (name, 1, 2)
    assert d.changed == ["model", "template"]
    lines = d.diff.splitlines()
    assert f"--- {name}/1" in lines and f"+++ {name}/2" in lines
    assert "-  Tone: {{ tone }}" in lines
    assert "+  Answer in a {{ tone }} tone." in lines
    assert "-model: gpt-4o-mini" in lines and "+model: gpt-4o" in lines
    # unchanged lines are context, not changes
    assert not any(x.startswith(("-", "+")) and "Question:" in x for x in lines)
    same = client.prompts.diff(name, 2, 2)
    assert same.changed == [] and same.diff == ""
    with pytest.raises(NotFound):
        client.prompts.diff(name, 1, 9)


# -- validation -------------------------------------------------------------------------------


def test_template_syntax_error_names_the_line(client: Client) -> None:
    name = unique("syntax")
    with pytest.raises(InvalidInput) as info:
        client.prompts.create(name, "Line one\n{% if question %}\n{{ question }\n{% endif %}")
    assert "line 3" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        client.prompts.create(
            name,
            messages=[
                {"role": "system", "content": "ok"},
                {"role": "user", "content": "{% for %}"},
            ],
        )
    assert "message 2" in str(info.value) and "line 1" in str(info.value)
    with pytest.raises(NotFound):
        client.prompts.versions(name)  # nothing was stored


def test_undeclared_variable_is_refused(client: Client) -> None:
    name = unique("undeclared")
    with pytest.raises(InvalidInput) as info:
        client.prompts.create(name, "Hi {{ name }}, about {{ topic }}", variables=["name"])
    assert "topic" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        client.prompts.create(name, "Hi {{ name }}", defaults={"nmae": "x"})
    assert "nmae" in str(info.value)
    with pytest.raises(InvalidInput):
        client.prompts.create(name, "Hi", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(InvalidInput):
        client.prompts.create(name, "Hi", model="a", route="b")
    with pytest.raises(NotFound):
        client.prompts.versions(name)


def test_the_server_checks_specs_itself(client: Client) -> None:
    """A client that skips the SDK's checks still cannot store a broken template."""
    if not client.remote:
        pytest.skip("the REST API only")
    name = unique("raw")
    url = f"{client.settings.client.url}/api/v1/prompts/{name}/versions"
    bad = [
        {"template": "a\n{{ x }"},
        {"template": "{{ y }}", "variables": ["x"]},
        {"template": "{{ x }}", "variables": ["x"], "type": "chat"},
    ]
    for spec in bad:
        r = httpx.post(url, json={"spec": spec}, timeout=10)
        assert r.status_code in (400, 422), (spec, r.text)
    r = httpx.post(url, json={"spec": bad[0]}, timeout=10)
    assert "line 2" in r.text
    assert httpx.get(url, timeout=10).status_code == 404


def test_an_entry_of_another_kind_is_not_a_prompt(client: Client) -> None:
    name = unique("model")
    client.registry.create_version(name, kind="model", payload={"lr": 0.1})
    client.registry.set_alias(name, "production", 1)
    with pytest.raises(NotFound) as info:
        client.prompts.get(name, "latest")
    assert "model" in str(info.value)
    with pytest.raises(NotFound):
        client.prompts.get(name)
    with pytest.raises(NotFound):
        client.prompts.get(name, version=1)
    with pytest.raises(NotFound):
        client.prompts.versions(name)
    with pytest.raises(NotFound):
        client.prompts.set_label(name, "staging", 1)
    with pytest.raises(Conflict):
        client.prompts.create(name, "Hi")
    assert name not in {p.name for p in client.prompts.list(search=name)}


def test_protected_prompt_needs_approval_for_production(client: Client) -> None:
    name = unique("guarded")
    client.prompts.create(name, "v1 {{ x }}")
    client.prompts.create(name, "v2 {{ x }}")
    client.registry.update_entry(name, UpdateEntry(protected=True))
    assert client.prompts.list(search=name)[0].protected
    client.prompts.set_label(name, "staging", 2)  # other labels move freely
    with pytest.raises(ApprovalRequired) as info:
        client.prompts.set_label(name, "production", 2)
    assert "approve" in str(info.value)
    with pytest.raises(NotFound):
        client.prompts.get(name)  # the refused move did not happen
    with pytest.raises(ApprovalRequired):
        client.prompts.create(name, "v3 {{ x }}", labels=["production"])
    with pytest.raises(NotFound):
        client.prompts.get(name)

    approved = client.prompts.approve(name, 2, "reviewed by legal")
    assert approved.approved and approved.version == 2
    assert not client.prompts.get(name, version=1).data.approved
    client.prompts.set_label(name, "production", 2, "approved")
    assert client.prompts.get(name).render(x="ok") == "v2 ok"
    with pytest.raises(ApprovalRequired):
        client.prompts.set_label(name, "production", 1)
    assert client.prompts.get(name).version == 2


# -- rendering --------------------------------------------------------------------------------


def test_rendering_fills_variables_and_defaults(client: Client) -> None:
    name = unique("render")
    _text(client, name, labels=["production"])
    p = client.prompts.get(name)
    assert (
        p.render(question="Why?") == "Answer the question below.\nQuestion: Why?\nTone: friendly\n"
    )
    assert str(p.render(question="Why?", tone="formal")).endswith("Tone: formal\n")
    with pytest.raises(InvalidInput) as info:
        p.render(tone="formal")
    assert "question" in str(info.value) and "tone" not in str(info.value).split("(")[0]
    loops = client.prompts.create(
        unique("loop"),
        "{% for d in docs %}- {{ d }}\n{% endfor %}{% if note %}Note: {{ note }}{% endif %}",
        defaults={"note": ""},
    )
    assert loops.variables == ["docs", "note"]
    assert loops.render(docs=["a", "b"]) == "- a\n- b\n"
    assert loops.render(docs=[], note="none") == "Note: none"


def test_chat_prompt_renders_messages(client: Client) -> None:
    name = unique("chat")
    client.prompts.create(
        name, messages=CHAT, defaults={"persona": "patient"}, labels=["production"]
    )
    p = client.prompts.get(name)
    assert p.render(question="Where is my order?") == [
        {"role": "system", "content": "You are a patient support agent."},
        {"role": "user", "content": "Where is my order?"},
    ]
    with pytest.raises(InvalidInput) as info:
        p.render(persona="calm")
    assert "question" in str(info.value)
    op, body = p.request({"question": "hi"}, model="other", params={"temperature": 1})
    assert op == "chat" and body["model"] == "other" and body["temperature"] == 1
    assert body["messages"][1] == {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ x.__class__ }}",
        "{% set s = 'a' %}{{ s.__class__.__base__ }}",
    ],
)
def test_sandbox_refuses_python_internals(client: Client, template: str) -> None:
    p = client.prompts.create(unique("sandbox"), template)
    values = {"x": "text"} if "x" in p.variables else {}
    with pytest.raises(InvalidInput) as info:
        p.render(**values)
    assert "not allowed" in str(info.value) or "unsafe" in str(info.value)


def test_rendering_does_not_mutate_what_it_is_given(client: Client) -> None:
    p = client.prompts.create(unique("immutable"), "{{ items.append(4) }}{{ items }}")
    items = [1, 2, 3]
    with pytest.raises(InvalidInput):
        p.render(items=items)
    assert items == [1, 2, 3]
