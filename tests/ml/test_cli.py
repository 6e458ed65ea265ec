"""``shipyard ml endpoint`` and ``shipyard ml predict`` as a user types them (embedded store)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression

from shipyard.cli.main import cli
from shipyard.sdk import Client


def test_an_endpoint_made_and_asked_from_the_command_line(tmp_path: Path) -> None:
    x, y = load_wine(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(x, y)
    with Client() as c:  # the SHIPYARD_HOME of this test
        c.ml.log_model(model, "wine", input_example=x.head(), reference_data=x)
        c.registry.set_alias("wine", "champion", 1)
    runner = CliRunner()
    out = runner.invoke(cli, ["ml", "endpoint", "wine-api", "--model", "wine"],
                        catch_exceptions=False)  # fmt: skip
    assert out.exit_code == 0 and "serves wine@champion" in out.output
    rows = tmp_path / "rows.csv"
    x.iloc[[0, 70, 150]].to_csv(rows, index=False)
    out = runner.invoke(cli, ["ml", "predict", "wine-api", str(rows), "--json"],
                        catch_exceptions=False)  # fmt: skip
    answer = json.loads(out.output)
    assert answer["predictions"] == model.predict(x.iloc[[0, 70, 150]]).tolist()
    assert answer["version"] == 1 and len(answer["request_id"]) == 32
    table = runner.invoke(cli, ["ml", "predict", "wine-api", str(rows)], catch_exceptions=False)
    assert "wine v1" in table.output

    truth = tmp_path / "labels.jsonl"
    truth.write_text(json.dumps({"request_id": answer["request_id"],
                                 "labels": y.iloc[[0, 70, 150]].tolist()}) + "\n")  # fmt: skip
    out = runner.invoke(cli, ["ml", "labels", "wine-api", str(truth)], catch_exceptions=False)
    assert "3 labels stored" in out.output
    out = runner.invoke(cli, ["ml", "performance", "wine-api", "--json"], catch_exceptions=False)
    report = json.loads(out.output)
    assert report["labeled"] == 3 and report["metrics"]["accuracy"] == 1.0
    out = runner.invoke(cli, ["ml", "performance", "wine-api"], catch_exceptions=False)
    assert "accuracy" in out.output and "model v1" in out.output

    shifted = tmp_path / "shifted.csv"
    x.assign(alcohol=x.alcohol + 3).to_csv(shifted, index=False)
    runner.invoke(cli, ["ml", "predict", "wine-api", str(shifted)], catch_exceptions=False)
    page = tmp_path / "drift.html"
    out = runner.invoke(cli, ["ml", "monitor", "wine-api", "--html", str(page)],
                        catch_exceptions=False)  # fmt: skip
    row = next(line for line in out.output.splitlines() if line.startswith("│ alcohol "))
    assert " ks " in row and "drift" in row  # 178 training rows: a test, not a distance
    assert "Data drift: endpoint wine-api" in page.read_text()
