"""The machine formats as CI systems read them.

- SARIF validates against the official SARIF 2.1.0 schema (``tests/schemas``), and keeps the rules GitHub
  code scanning applies on top of it (the SARIF SDK's ``GH…`` rules and the ``SARIF1001``/``SARIF2005``
  guidance), restated here as assertions since no schema expresses them.
- JUnit validates against the Jenkins JUnit schema (``junit-10.xsd``) and names file and line.
- SARIF and JUnit are the same bytes from run to run (no time, no absolute path unless given one).
- A policy with errors (parse, type, import) is in every format of ``check`` and in ``diff --format json``,
  with its code, file and line — not only on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import jsonschema
import pytest
import xmlschema
from rfc3986_validator import validate_rfc3986

from checker.report import to_sarif
from tests.checker.support import BAD, GOOD, HERE, ROOT
from tinnhiem.check_command import check_main
from tinnhiem.cli import main

# Vendored unchanged: the OASIS SARIF 2.1.0 schema and Jenkins' junit-10.xsd (MIT); where each comes
# from, its licence and checksum are in tests/schemas/README.md.
SCHEMAS = ROOT / "tests" / "schemas"
SARIF_SCHEMA = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
JUNIT_XSD = xmlschema.XMLSchema10(str(SCHEMAS / "junit-10.xsd"))
SHA256 = {"sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
          "junit-10.xsd": "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"}
SOME_BAD = [str(BAD / f"{n}.policy") for n in ("bands_cover", "no_conflict", "policy_property", "stale_acknowledgement",
                                               "schedule_feasible")]
MIXED = SOME_BAD + [str(GOOD / "acknowledged.policy"), str(GOOD / "max_venues.policy")]


@pytest.fixture
def broken(tmp_path: Path) -> dict[str, Path]:
    """Under ``root``: policies with each kind of error — a type error (E203), a syntax error (E10x),
    an import of a missing file (E004), an error inside an imported file (``lib``), a missing file
    (E001) — and a good one beside them."""
    good = (GOOD / "max_venues.policy").read_text(encoding="utf-8")
    lib = (HERE / "lib" / "central.policy").read_text(encoding="utf-8")
    (tmp_path / "lib").mkdir()
    (tmp_path / "p").mkdir()
    (tmp_path / "lib" / "central.policy").write_text(lib.replace("when retirement_notice", "when retirement_notize"),
                                                     encoding="utf-8")
    files = {
        "type": ("type.policy", good.replace("holds(btv)", "holds(btvv)")),
        "syntax": ("syntax.policy", good.replace("venue ", "venue @", 1)),
        "import": ("import.policy", 'import "nowhere.policy" as x\n' + good),
        "imported": ("refines.policy", (GOOD / "refinement_keeps.policy").read_text(encoding="utf-8")),
        "good": ("good.policy", good),
    }
    out = {"root": tmp_path, "lib": tmp_path / "lib" / "central.policy", "missing": tmp_path / "p" / "missing.policy"}
    for key, (name, text) in files.items():
        (tmp_path / "p" / name).write_text(text, encoding="utf-8")
        out[key] = tmp_path / "p" / name
    return out


ALL_BROKEN = ("type", "syntax", "import", "imported", "missing", "good")


def _check(capsys, paths, fmt, root=None, **kw):
    if root is None and all(Path(p).resolve().is_relative_to(HERE) for p in paths):
        root = HERE  # the fixtures of good/ and bad/ import ../lib/
    code = check_main([str(p) for p in paths], fmt, root=None if root is None else str(root), **kw)
    out = capsys.readouterr()
    return code, out.out, out.err


def _validate_sarif(log: dict) -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def _github_rules(log: dict) -> None:
    """What GitHub code scanning and the SARIF validator's rules ask beyond the schema."""
    assert log["$schema"].endswith("2.1.0.json")  # SARIF1011 / GH1011: the final schema
    assert len(log["runs"]) == 1  # GH1004: at most 5 runs
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert len(driver["name"].split()) <= 3 and re.match(r"^\d+\.\d+", driver["version"])  # SARIF2005
    assert urlparse(driver["informationUri"]).scheme == "https"  # SARIF2005: informationUri
    rules = driver["rules"]
    assert 0 < len(rules) <= 1000 and len({r["id"] for r in rules}) == len(rules)  # GH1004, unique ids
    for rule in rules:  # GH2012: shortDescription, fullDescription, help (with text); SARIF1001: name ≠ id
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"].strip(), (rule["id"], key)
        assert rule.get("name") != rule["id"]
        if "name" in rule:
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"]), rule["name"]  # SARIF2012: a Pascal identifier
    assert len(run["results"]) <= 1000  # GH1004
    for res in run["results"]:  # GH1015 / Base1015, GH1001, GH1003, GH1005, SARIF1007, SARIF1010
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"].strip() and res["message"]["text"].endswith((".", "?", "!", "…"))
        assert res["partialFingerprints"]
        assert 1 <= len(res["locations"]) <= 10
        for loc in res["locations"] + res.get("relatedLocations", []):
            phys = loc["physicalLocation"]
            uri = phys["artifactLocation"]["uri"]
            assert urlparse(uri).scheme in ("", "file"), uri
            assert validate_rfc3986(uri, rule="URI_reference"), uri  # SARIF1002 (draft 4 does not check uri-reference)
            assert ".." not in uri.split("/") or not uri.startswith("file:")  # SARIF1002
            region = phys["region"]
            assert region["startLine"] >= 1 and region["startColumn"] >= 1
            if "endLine" in region:
                assert region["endLine"] >= region["startLine"]
                if region["endLine"] == region["startLine"] and "endColumn" in region:
                    assert region["endColumn"] >= region["startColumn"]


# ---- the vendored schemas ---------------------------------------------------------------------------


def test_the_schemas_are_the_official_ones_unchanged():
    for name, digest in SHA256.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name
        assert digest in (SCHEMAS / "README.md").read_text(encoding="utf-8")
    assert SARIF_SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_the_schemas_reject_what_they_should():
    with pytest.raises(jsonschema.ValidationError):  # a driver needs a name
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, SARIF_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):  # no member outside the standard
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "line": 3}}}]}, SARIF_SCHEMA)
    for bad in ('<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="t" file="a.policy"/>'
                '</testsuite></testsuites>',  # file on a test case: what Jenkins rejected before
                '<testsuites skipped="0"/>'):  # skipped on testsuites: likewise
        assert not JUNIT_XSD.is_valid(bad)


# ---- SARIF ------------------------------------------------------------------------------------------


def test_sarif_is_valid_and_keeps_githubs_rules(capsys, broken):
    code, out, _ = _check(capsys, MIXED, "sarif")
    assert code == 1
    log = json.loads(out)
    _validate_sarif(log)
    _github_rules(log)
    code, out, _ = _check(capsys, [broken[k] for k in ALL_BROKEN], "sarif", root=broken["root"])
    assert code == 2
    log = json.loads(out)
    _validate_sarif(log)
    _github_rules(log)
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True, "exitCode": 2}]


def test_sarif_rules_have_help_and_friendly_names(capsys):
    _, out, _ = _check(capsys, [BAD / "policy_property.policy"], "sarif")
    rules = {r["id"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["builtin.bands_disjoint"]["name"] == "BandsDisjoint"
    policy_rule = rules["hdnd_chi_lay_phieu_nguoi_do_hdnd_bau"]
    assert policy_rule["name"] == "HdndChiLayPhieuNguoiDoHdndBau"  # was the id itself: SARIF1001
    assert policy_rule["properties"]["tags"] == ["property", "policy"]
    for rule in rules.values():
        assert rule["fullDescription"]["text"] in rule["help"]["text"] and "docs/properties.md" in rule["help"]["text"]


def test_sarif_uris_are_percent_encoded(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "thư mục"
    folder.mkdir()
    shutil.copy(GOOD / "max_venues.policy", folder / "chính sách.policy")
    for cwd, expect in ((tmp_path, "th%C6%B0%20m%E1%BB%A5c/ch%C3%ADnh%20s%C3%A1ch.policy"), (folder, None)):
        monkeypatch.chdir(cwd)
        code, out, _ = _check(capsys, [folder / "chính sách.policy"], "sarif", root=folder)
        assert code == 0
        log = json.loads(out)
        _validate_sarif(log)
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"] for loc in r["locations"]}
        assert uris == {expect or "ch%C3%ADnh%20s%C3%A1ch.policy"}
        assert unquote(uris.pop()).endswith("chính sách.policy")


# ---- JUnit ------------------------------------------------------------------------------------------


def test_junit_is_valid_against_the_jenkins_schema_and_names_file_and_line(capsys, broken):
    code, out, _ = _check(capsys, MIXED, "junit")
    assert code == 1
    JUNIT_XSD.validate(out)
    root = ET.fromstring(out)
    assert "time" not in root.attrib and "skipped" not in root.attrib
    for suite in root.iter("testsuite"):
        assert suite.get("file", "").endswith(".policy") and "time" not in suite.attrib
        for case in suite.iter("testcase"):
            assert set(case.attrib) == {"classname", "name"}
            texts = [el.text or "" for el in case if el.tag in ("failure", "error", "skipped", "system-out")]
            assert len(texts) == 1 and re.match(r"^\S+\.policy:\d+:\d+", texts[0]), (case.get("name"), texts)
    cover = next(c for c in root.iter("testcase") if c.get("classname") == "bad_bands_cover" and c.get("name") == "builtin.bands_cover")
    where = re.match(r"^(\S+\.policy):(\d+):\d+", cover.find("failure").text)
    line = Path(where.group(1)).read_text(encoding="utf-8").split("\n")[int(where.group(2)) - 1]
    assert line.lstrip().startswith("band thap")  # the line SARIF locates it at: the first band of the set

    code, out, _ = _check(capsys, [broken[k] for k in ALL_BROKEN], "junit", root=broken["root"])
    assert code == 2
    JUNIT_XSD.validate(out)


# ---- policy errors in every format ------------------------------------------------------------------


def test_policy_errors_are_in_every_format(capsys, broken, monkeypatch):
    monkeypatch.chdir(broken["root"])  # short relative paths, as a user in their repository sees them
    paths = [broken[k] for k in ALL_BROKEN]
    root = broken["root"]
    outs = {}
    for fmt in ("json", "sarif", "junit", "text"):
        code, outs[fmt], err = _check(capsys, paths, fmt, root=root)
        assert code == 2, fmt
        assert "error[E203]: unknown title 'btvv'" in err  # stderr as before
    expected = {  # per policy given: the code of its first error, the file it is in (the imported file's)
        "type": ("E203", broken["type"]), "syntax": ("E10", broken["syntax"]), "import": ("E004", broken["import"]),
        "imported": ("E202", broken["lib"]), "missing": ("E001", broken["missing"]),
    }

    data = json.loads(outs["json"])
    assert data["exit_code"] == 2 and data["summary"]["policies"] == 6 and data["summary"]["errors"] >= 5
    entries = data["policies"]
    assert [Path(e["policy"]["path"]).name for e in entries] == [p.name for p in paths]  # the order given
    for entry, key in zip(entries, expected, strict=False):
        code, file = expected[key]
        assert entry["policy"]["id"] is None and entry["exit_code"] == 2 and entry["properties"] == []
        first = entry["errors"][0]
        assert first["code"].startswith(code) and Path(first["file"]).resolve() == file.resolve(), (key, first)
        assert first["line"] >= 1 and first["column"] >= 1 and first["rendered"].startswith(f"{first['file']}:{first['line']}:")
    type_error = entries[0]["errors"][0]
    assert (type_error["message"], type_error["hint"]) == ("unknown title 'btvv'", "did you mean 'btv'?")
    line = broken["type"].read_text(encoding="utf-8").split("\n")[type_error["line"] - 1]
    assert line[type_error["column"] - 1:type_error["end_column"] - 1] == "btvv"
    assert entries[-1]["policy"]["id"] == "good_max_venues" and entries[-1]["errors"] == []  # the others are still checked

    log = json.loads(outs["sarif"])
    results = log["runs"][0]["results"]
    errors = [r for r in results if r["properties"]["status"] == "error"]
    assert len(errors) == data["summary"]["errors"]
    e203 = next(r for r in errors if r["ruleId"] == "E203")
    region = e203["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (
        type_error["line"], type_error["column"], type_error["end_column"])
    assert (e203["kind"], e203["level"]) == ("fail", "error") and "unknown title 'btvv'" in e203["message"]["text"]
    rule = log["runs"][0]["tool"]["driver"]["rules"][e203["ruleIndex"]]
    assert rule["id"] == "E203" and rule["name"] == "UnknownTitle" and rule["defaultConfiguration"]["level"] == "error"
    lib = next(r for r in errors if Path(r["properties"]["policy"]).name == "refines.policy")
    assert unquote(lib["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).endswith("lib/central.policy")
    assert any(r["properties"]["policy"] == "good_max_venues" for r in results)

    suites = ET.fromstring(outs["junit"]).findall("testsuite")
    assert [Path(s.get("file")).name for s in suites] == [p.name for p in paths]
    first = suites[0].find("testcase")
    assert first.get("name") == f"error[E203] {type_error['file']}:{type_error['line']}:{type_error['column']}"
    error = first.find("error")
    assert error.get("type") == "E203" and "^^^^" in error.text and "help: did you mean 'btv'?" in error.text
    root_el = ET.fromstring(outs["junit"])
    assert int(root_el.get("errors")) == data["summary"]["errors"]

    text = outs["text"]
    assert f"{type_error['file']}:{type_error['line']}:{type_error['column']}: error[E203]: unknown title 'btvv'" in text
    assert "policy p/type.policy — not checked: 1 error" in text and "help: did you mean 'btv'?" in text
    assert re.search(r"^6 policies: .*, 5 not checked \(5 errors\) — exit 2 in ", text, re.M)


def test_a_file_with_errors_still_writes_the_report(tmp_path, capsys, broken):
    target = tmp_path / "out.sarif"
    code, out, err = _check(capsys, [broken["type"]], "sarif", output=str(target), root=broken["root"])
    assert code == 2 and out == "" and "E203" in err
    assert json.loads(target.read_text(encoding="utf-8"))["runs"][0]["results"][0]["ruleId"] == "E203"


def test_machine_formats_are_the_same_bytes_from_run_to_run(broken):
    """Two processes with different hash seeds (set and dict orders) write the same SARIF and JUnit."""
    paths = [str(BAD / "bands_cover.policy"), str(GOOD / "acknowledged.policy")]  # a counterexample, a suppression
    for fmt in ("sarif", "junit"):
        runs = [subprocess.run([sys.executable, "-m", "tinnhiem", "check", "--policy-root", str(HERE), "--format", fmt, *paths],
                               cwd=ROOT, env=os.environ | {"PYTHONHASHSEED": seed}, capture_output=True, stdin=subprocess.DEVNULL,
                               timeout=300) for seed in ("1", "2")]
        assert [r.returncode for r in runs] == [1, 1], runs[0].stderr
        assert runs[0].stdout == runs[1].stdout, fmt
    errors = [subprocess.run([sys.executable, "-m", "tinnhiem", "check", "--policy-root", str(broken["root"]), "--format", "sarif",
                              str(broken["type"]), str(broken["imported"])], cwd=broken["root"],
                             env=os.environ | {"PYTHONHASHSEED": seed}, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
              for seed in ("1", "2")]
    assert errors[0].returncode == 2 and errors[0].stdout == errors[1].stdout


def test_to_sarif_of_nothing_is_valid():
    log = json.loads(to_sarif([], 0))
    _validate_sarif(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


# ---- diff -------------------------------------------------------------------------------------------


def test_diff_json_reports_policy_errors(capsys, broken, tmp_path):
    good = GOOD / "max_venues.policy"
    assert main(["diff", str(broken["type"]), str(good), "--format", "json", "--policy-root", "/"]) == 2
    captured = capsys.readouterr()
    assert "error[E203]" in captured.err
    data = json.loads(captured.out)
    assert data["exit_code"] == 2 and data["equivalent"] is False and data["differences"] == []
    assert data["old"]["id"] is None and data["new"]["id"] == "good_max_venues"
    [error] = data["errors"]
    assert (error["side"], error["code"], error["message"]) == ("old", "E203", "unknown title 'btvv'")
    assert error["line"] >= 1 and Path(error["file"]).name == "type.policy"

    out = tmp_path / "diff.json"
    assert main(["diff", str(good), str(good), "--format", "json", "--output", str(out)]) == 0
    same = json.loads(out.read_text(encoding="utf-8"))
    assert same["errors"] == [] and set(data) == set(same)  # one shape, with or without errors
    assert main(["diff", str(broken["type"]), str(good), "--policy-root", "/"]) == 2  # text: stderr only, as before
    assert "E203" in capsys.readouterr().err
