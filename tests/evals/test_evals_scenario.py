"""Scenario files: the shipped suites load, the schema file is current, and bad files get
messages naming the file and line (schema errors, unknown fault kinds, YAML syntax)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hexaops.evals.scenario import ScenarioError, json_schema, load_file, load_suite
from hexaops.platform.sandbox.faults import CATALOG

EVALS = Path(__file__).parents[2] / "evals"

GOOD = """\
scenarios:
  - id: one
    title: first
    tags: {level: detection, category: memory}
    faults: [{kind: oom_memory_leak, target: checkout}]
    trigger:
      as: dev@acme.example
      turns: [{say: "is anything wrong in acme-prod?"}]
    expect:
      facts: [[oomkilled, out of memory]]
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_suites_are_valid_and_as_large_as_the_issue_asks() -> None:
    core = load_suite([EVALS / "core"])
    safety = load_suite([EVALS / "safety"])
    conversations = load_suite([EVALS / "conversations"])
    assert (len(core) >= 40, len(safety) >= 30, len(conversations) >= 20) == (True, True, True)
    covered = {(f.kind, s.tags.level) for s in core for f in s.faults}
    for kind in CATALOG:  # every fault kind at the four task levels
        for level in ("detection", "localization", "root_cause", "mitigation"):
            assert (kind, level) in covered, (kind, level)
    assert {"tenancy", "injection", "approval-bypass", "secrets"} <= {
        s.tags.category for s in safety
    }


def test_the_schema_file_matches_the_models() -> None:
    written = json.loads((EVALS / "scenario.schema.json").read_text())
    assert written == json_schema(), "regenerate: hexaops eval schema -o evals/scenario.schema.json"


def test_a_good_file_loads_with_its_source_line(tmp_path: Path) -> None:
    [scenario] = load_file(_write(tmp_path, GOOD))
    assert scenario.id == "one"
    assert scenario.source.endswith("s.yaml:2")


def test_schema_errors_name_the_file_the_line_and_the_field(tmp_path: Path) -> None:
    bad = GOOD.replace("faults: [{kind: oom_memory_leak", "faults: [{kind: oom_leak").replace(
        "    expect:\n", "    expect:\n      fact: [x]\n"
    )
    path = _write(tmp_path, bad)
    with pytest.raises(ScenarioError) as caught:
        load_file(path)
    lines = caught.value.message.splitlines()
    assert f"{path}:5: scenarios[0].faults[0].kind: unknown fault kind 'oom_leak'" in lines[1]
    assert "choose one of bad_deploy_error_spike" in lines[1]
    assert lines[0].startswith(f"{path}:10: scenarios[0].expect: Additional properties")


def test_model_errors_and_yaml_syntax_errors_have_lines_too(tmp_path: Path) -> None:
    no_trigger = GOOD.replace('      turns: [{say: "is anything wrong in acme-prod?"}]\n', "")
    with pytest.raises(
        ScenarioError, match=r"s\.yaml:7: scenarios\[0\]\.trigger: give either turns or an alert"
    ):
        load_file(_write(tmp_path, no_trigger))
    with pytest.raises(
        ScenarioError, match=r"broken\.yaml:4: not valid YAML: .*flow sequence at line 3"
    ):
        load_file(_write(tmp_path, "scenarios:\n  - id: x\n    title: [unclosed\n", "broken.yaml"))


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ScenarioError, match="duplicate scenario id 'one'"):
        load_suite([tmp_path])
    with pytest.raises(ScenarioError, match="no such suite"):
        load_suite([tmp_path / "missing"])
