"""Prompts as YAML files: push adds a version only where a file changed, a broken file stops
the whole push, and pull writes files that push back to the very same versions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard import InvalidInput, NotFound
from shipyard.core.settings import Settings
from shipyard.prompts.files import pull, push, read_prompt_file
from shipyard.registry.schemas import content_hash
from shipyard.sdk import Client
from tests.conftest import ServerProcess, unique


@pytest.fixture(params=["local", "remote"])
def client(
    request: pytest.FixtureRequest, tmp_path: Path, server_for: Callable[[str], ServerProcess]
) -> Iterator[Client]:
    """Embedded on SQLite, and remote against a real server."""
    if request.param == "local":
        c = Client(Settings.load(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path}/s.db"))
    else:
        c = server_for("sqlite").client()
    yield c
    c.close()


def text_file(line: str = "Be brief.") -> str:
    return f"""\
description: answers support questions
labels: [production, staging]
template: |
  You answer questions about {{{{ product }}}}.
  {line}
  {{% if context %}}Context: {{{{ context }}}}
  {{% endif %}}Question: {{{{ question }}}}
variables: [product, question, context]
defaults:
  context: ""
model: gpt-4o-mini
params:
  temperature: 0.2
  max_tokens: 200
metadata:
  owner: support
"""


def chat_file(name: str) -> str:
    return f"""\
name: {name}
messages:
  - role: system
    content: |-
      You are a {{{{ persona }}}} assistant.
      Never promise refunds.
  - role: user
    content: "{{{{ question }}}}"
route: support-chat
labels: staging
"""


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, str, str]:
    """A folder with a text prompt and, in a subfolder, a chat prompt named inside its file."""
    src = tmp_path / "prompts"
    (src / "chat").mkdir(parents=True)
    text, chat = unique("answer"), unique("support")
    (src / f"{text}.yaml").write_text(text_file())
    (src / "chat" / "support.yml").write_text(chat_file(chat))
    (src / "README.md").write_text("not a prompt")
    return src, text, chat


def test_push_creates_a_version_per_file(client: Client, folder: tuple[Path, str, str]) -> None:
    src, text, chat = folder
    pushed = {p.name: p for p in push(client.prompts, src)}
    assert set(pushed) == {text, chat}
    assert all(p.created and p.version == 1 for p in pushed.values())
    assert pushed[text].labels == ["production", "staging"] and pushed[chat].labels == ["staging"]

    p = client.prompts.get(text)  # the file's labels were moved to the new version
    assert (
        p.labels == ["production", "staging"] and p.data.description == "answers support questions"
    )
    assert p.render(product="Shipyard", question="How?") == (
        "You answer questions about Shipyard.\nBe brief.\nQuestion: How?\n"
    )
    with_context = p.render(product="S", question="Q", context="docs")
    assert str(with_context).splitlines()[2] == "Context: docs"
    assert p.spec.model == "gpt-4o-mini" and p.spec.params.max_tokens == 200
    assert p.spec.metadata == {"owner": "support"}

    c = client.prompts.get(chat, "staging")
    assert c.render(persona="careful", question="Refund?") == [
        {"role": "system", "content": "You are a careful assistant.\nNever promise refunds."},
        {"role": "user", "content": "Refund?"},
    ]
    assert c.spec.route == "support-chat"
    with pytest.raises(NotFound):
        client.prompts.get(chat)  # no production label in its file


def test_pushing_again_changes_only_what_changed(
    client: Client, folder: tuple[Path, str, str]
) -> None:
    src, text, chat = folder
    push(client.prompts, src)
    moves = len(client.prompts.history(text))

    again = {p.name: p for p in push(client.prompts, src)}
    assert [(p.version, p.created) for p in again.values()] == [(1, False), (1, False)]
    assert [v.version for v in client.prompts.versions(text)] == [1]
    assert len(client.prompts.history(text)) == moves  # labels already there: no moves

    (src / f"{text}.yaml").write_text(text_file(line="Be thorough."))
    third = {p.name: p for p in push(client.prompts, src, labels=["canary"])}
    assert (third[text].version, third[text].created) == (2, True)
    assert (third[chat].version, third[chat].created) == (1, False)
    assert [v.version for v in client.prompts.versions(chat)] == [1]
    assert client.prompts.get(text).version == 2  # production follows the file
    assert "Be thorough." in str(client.prompts.get(text).render(product="p", question="q"))
    assert client.prompts.get(text, "canary").version == 2
    assert client.prompts.get(chat, "canary").version == 1
    d = client.prompts.diff(text, 1, 2)
    assert d.changed == ["template"] and "+  Be thorough." in d.diff.splitlines()


BROKEN = {
    "bad-yaml": ("template: [unclosed\n", "not valid YAML"),
    "syntax": ("template: |\n  line one\n  {% if x %}\n  {{ x }\n", "line 3"),
    "undeclared": ("template: '{{ a }} {{ b }}'\nvariables: [a]\n", "b"),
    "not-a-mapping": ("- just\n- a list\n", "mapping"),
    "chat-and-text": ("template: hi\nmessages: [{role: user, content: hi}]\n", "one of them"),
    "label-latest": ("template: hi\nlabels: [latest]\n", "latest"),
    "bad-label": ("template: hi\nlabels: ['9 lives']\n", "9 lives"),
    "bad-name": ("name: 'no spaces please'\ntemplate: hi\n", "no spaces please"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_stops_the_whole_push(
    client: Client, folder: tuple[Path, str, str], case: str
) -> None:
    src, text, chat = folder
    content, says = BROKEN[case]
    broken = src / "zz-broken.yaml"  # read after the good files
    broken.write_text(content)
    with pytest.raises(InvalidInput) as info:
        push(client.prompts, src)
    assert "zz-broken.yaml" in str(info.value) and says in str(info.value)
    for name in (text, chat):  # nothing of that push was written
        with pytest.raises(NotFound):
            client.prompts.versions(name)

    broken.unlink()
    push(client.prompts, src)
    (src / f"{text}.yaml").write_text(text_file(line="Changed."))
    broken.write_text(content)
    with pytest.raises(InvalidInput):
        push(client.prompts, src)
    assert [v.version for v in client.prompts.versions(text)] == [1]  # the change waits too


def test_two_files_for_one_prompt_are_refused(
    client: Client, folder: tuple[Path, str, str]
) -> None:
    src, text, chat = folder
    (src / "copy.yaml").write_text(f"name: {text}\ntemplate: other\n")
    with pytest.raises(InvalidInput) as info:
        push(client.prompts, src)
    assert text in str(info.value)
    with pytest.raises(NotFound):
        client.prompts.versions(chat)


def test_pull_writes_files_that_push_back_unchanged(client: Client, tmp_path: Path) -> None:
    multi, chat, bare = unique("multi"), unique("chat"), unique("unlabelled")
    client.prompts.create(
        multi,
        "Summarise:\n\n{{ text }}\n\n  - keep it short\n",
        defaults={"text": "nothing"},
        params={"temperature": 0.5, "stop": ["\n\n"]},
        metadata={"tags": ["a", "b"], "owner": "x"},
        model="gpt-4o",
        description="multi-line",
        labels=["production"],
    )
    client.prompts.create(
        chat,
        messages=[
            {"role": "system", "content": "Rules:\n1. {{ rule }}\n2. be kind"},
            {"role": "user", "content": "{{ q }}: «unicode» ✓"},
        ],
        route="r",
        labels=["production", "staging"],
    )
    client.prompts.create(chat, messages=[{"role": "user", "content": "v2 {{ q }}"}])
    client.prompts.create(bare, "no label {{ x }}")
    client.prompts.set_label(bare, "staging", 1)

    dest = tmp_path / "pulled"
    written, skipped = pull(client.prompts, dest)
    assert {dest / f"{multi}.yaml", dest / f"{chat}.yaml"} <= set(written)
    assert not (dest / f"{bare}.yaml").exists()
    assert any(s.startswith(f"{bare}:") and "production" in s for s in skipped)

    for name, version in ((multi, 1), (chat, 1)):
        path = dest / f"{name}.yaml"
        stored = client.prompts.get(name, version=version).data
        f = read_prompt_file(path)
        assert f.name == name and f.labels == []  # labels are only a comment in the file
        assert content_hash(f.spec.dump(), None) == stored.content_hash
        assert f.description == stored.description
    (again,) = push(client.prompts, dest / f"{multi}.yaml")
    assert (again.name, again.version, again.created) == (multi, 1, False)
    # chat's newest version is 2: pushing its production copy adds the same content on top
    (back,) = push(client.prompts, dest / f"{chat}.yaml")
    assert (back.version, back.created) == (3, True)
    v1, v3 = (client.prompts.get(chat, version=v).data for v in (1, 3))
    assert v3.content_hash == v1.content_hash and client.prompts.diff(chat, 1, 3).changed == []
    assert client.prompts.get(chat).version == 1  # and moves no label
    assert "Summarise:\n\n" in (dest / f"{multi}.yaml").read_text()  # readable, not escaped

    written, _ = pull(client.prompts, tmp_path / "staging", names=[bare, chat], label="staging")
    assert [p.name for p in written] == [f"{bare}.yaml", f"{chat}.yaml"]
    assert read_prompt_file(written[0]).spec.template == "no label {{ x }}"
    with pytest.raises(NotFound):  # a prompt asked for by name must have the label
        pull(client.prompts, tmp_path / "strict", names=[bare])
