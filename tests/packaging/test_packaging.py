"""The distribution as the ecosystem expects it.

- Metadata: a PEP 639 licence expression with its LICENSE file, classifiers, URLs, every dependency
  bounded above, one version everywhere, ``py.typed`` in every package.
- Extras: ``plan``/``evaluate``/``check`` import neither Hypothesis nor pygls; ``fuzz`` and ``lsp`` say
  which extra to install (exit 2) when theirs is missing; the ``test`` extra holds both.
- The wheel, built from exactly what the Dockerfile copies: the files it ships and its METADATA.
- The CI integrations: the pre-commit hooks run, the composite Action's scripts run (check, annotate,
  keep only the problems) and take their inputs from the environment only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.conftest import EXAMPLES_DIR, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
PACKAGES = PYPROJECT["tool"]["setuptools"]["packages"]
GOOD = ROOT / "tests" / "checker" / "good" / "max_venues.policy"
BIN = Path(sys.executable).parent


def _requirements() -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in PROJECT["optional-dependencies"].values():
        reqs.extend(Requirement(r) for r in extra)
    return reqs


# ---- metadata ---------------------------------------------------------------------------------------


def test_license_is_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "MIT"  # PEP 639: a string, not the deprecated table
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # not both (setuptools refuses it)
    assert any(Requirement(r).name == "setuptools" and Requirement(r).specifier.contains("77")
               and not Requirement(r).specifier.contains("76") for r in PYPROJECT["build-system"]["requires"])


def test_classifiers_urls_and_keywords():
    classifiers = PROJECT["classifiers"]
    for prefix in ("Development Status ::", "Programming Language :: Python :: 3.11", "Typing :: Typed",
                   "Natural Language :: Vietnamese", "Topic ::", "Intended Audience ::"):
        assert any(c.startswith(prefix) for c in classifiers), prefix
    assert PROJECT["urls"] and all(u.startswith("https://") for u in PROJECT["urls"].values())
    assert PROJECT["keywords"]


def test_every_dependency_is_bounded_above():
    for req in _requirements():
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in req.specifier), f"{req} has no upper bound"
        assert any(spec.operator in (">=", "~=", "==") for spec in req.specifier), f"{req} has no lower bound"


def test_the_clerks_install_has_no_fuzzing_and_no_language_server():
    core = {Requirement(r).name for r in PROJECT["dependencies"]}
    assert core == {"lark", "z3-solver", "rich"}
    extras = {k: {Requirement(r).name for r in v} for k, v in PROJECT["optional-dependencies"].items()}
    assert extras["fuzz"] == {"hypothesis"} and extras["lsp"] == {"pygls"}
    # python dev.py test installs .[test]: it must hold what the fuzz and lsp tests import
    assert {str(Requirement(r)) for r in PROJECT["optional-dependencies"]["fuzz"] + PROJECT["optional-dependencies"]["lsp"]} <= {
        str(Requirement(r)) for r in PROJECT["optional-dependencies"]["test"]}
    assert {"pytest", "ruff", "jsonschema", "xmlschema", "pyyaml"} <= extras["test"]


def test_one_version_everywhere():
    import checker.report
    import tinnhiem
    import tinnhiem.lsp

    assert PROJECT["version"] == tinnhiem.__version__ == checker.report.VERSION == tinnhiem.lsp.SERVER_VERSION


def test_every_package_is_typed():
    for pkg in PACKAGES:
        assert (ROOT / pkg / "py.typed").is_file(), pkg
        assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"][pkg], pkg


# ---- extras -----------------------------------------------------------------------------------------

#: Runs the CLI in a fresh interpreter where Hypothesis and pygls cannot be imported (as after a plain
#: ``pip install tinnhiem``), and reports the exit codes, stderr, and whether either was imported.
WITHOUT_EXTRAS = r"""
import contextlib, io, json, sys
for name in ("hypothesis", "pygls", "lsprotocol"):
    sys.modules[name] = None  # import fails, find_spec says "not installed"
from tinnhiem.cli import main
out = {}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    out[name] = [code, err.getvalue()]
print(json.dumps(out))
"""


def test_plan_evaluate_check_without_the_extras_and_fuzz_lsp_name_theirs(tmp_path):
    roster, tallies = str(EXAMPLES_DIR / "roster.csv"), str(EXAMPLES_DIR / "tallies.csv")
    runs = {
        "plan": ["plan", "--roster", roster, "--format", "csv", "--output", str(tmp_path / "plan.csv")],
        "evaluate": ["evaluate", "--roster", roster, "--tallies", tallies, "--format", "json", "--output", str(tmp_path / "e.json")],
        "check": ["check", str(GOOD), "--format", "sarif", "--output", str(tmp_path / "c.sarif")],
        "fuzz": ["fuzz", "--examples", "5"],
        "lsp": ["lsp"],
    }
    proc = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, json.dumps(runs)], cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["plan"][0] == 0 and got["evaluate"][0] in (0, 1) and got["check"][0] == 0, got
    assert (tmp_path / "plan.csv").stat().st_size > 0 and json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["cadres"]
    for extra, needs in (("fuzz", "Hypothesis"), ("lsp", "pygls")):
        code, err = got[extra]
        assert code == 2 and needs in err and f"pip install 'tinnhiem[{extra}]'" in err and "Traceback" not in err, (extra, err)


# ---- the wheel ----------------------------------------------------------------------------------------


def _docker_copies() -> list[str]:
    """The sources the Dockerfile copies into the image, in its order."""
    out = []
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            out.extend(line.split()[1:-1])
    return out


def test_the_dockerfile_installs_the_package_without_extras_as_a_user():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.1[1-9]-slim$", text, re.M)
    assert re.search(r'^ARG EXTRAS=""$', text, re.M) and 'pip install "/src${EXTRAS:+[$EXTRAS]}"' in text
    assert re.search(r"^USER (?!root)\w+$", text, re.M) and 'ENTRYPOINT ["tinnhiem"]' in text
    assert set(_docker_copies()) == {"pyproject.toml", "README.md", "LICENSE", *PACKAGES}
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert {".git", ".venv", "tests"} <= set(ignored) and not set(_docker_copies()) & set(ignored)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built (as pip builds it, in an isolated environment) from exactly what the Dockerfile copies."""
    src = tmp_path_factory.mktemp("src")
    for name in _docker_copies():
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                           "-w", str(out), str(src)], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [whl] = out.glob("tinnhiem-*.whl")
    return zipfile.ZipFile(whl)


def test_the_wheel_ships_code_data_types_and_licence(wheel):
    names = set(wheel.namelist())
    version = PROJECT["version"]
    for pkg in PACKAGES:
        assert f"{pkg}/__init__.py" in names and f"{pkg}/py.typed" in names, pkg
    assert "dsl/grammar.lark" in names
    assert {p.name for p in (ROOT / "policy").glob("*.policy")} == {Path(n).name for n in names if n.startswith("policy/")
                                                                     and n.endswith(".policy")}
    assert f"tinnhiem-{version}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/")) or n.endswith(".json")]
    top = wheel.read(f"tinnhiem-{version}.dist-info/top_level.txt").decode().split()
    assert sorted(top) == sorted(PACKAGES)  # the four names docs/architecture.md ("Packages") explains


def test_the_wheel_metadata(wheel):
    meta = Parser().parsestr(wheel.read(f"tinnhiem-{PROJECT['version']}.dist-info/METADATA").decode("utf-8"))
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE" and meta["License"] is None
    assert set(meta.get_all("Classifier")) == set(PROJECT["classifiers"])
    assert meta.get_all("Project-URL")
    assert set(meta.get_all("Provides-Extra")) >= {"fuzz", "lsp", "test"}
    core = [Requirement(r) for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert {r.name for r in core} == {"lark", "z3-solver", "rich"} and all(r.specifier for r in core)
    entry = wheel.read(f"tinnhiem-{PROJECT['version']}.dist-info/entry_points.txt").decode()
    assert f"tinnhiem = {PROJECT['scripts']['tinnhiem']}" in entry


# ---- pre-commit hooks ------------------------------------------------------------------------------------


def test_pre_commit_hooks_run_on_policy_files(tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert {"tinnhiem-check", "tinnhiem-fmt", "tinnhiem-fmt-check", "tinnhiem-test"} <= set(by_id)
    for hook in hooks:
        assert hook["language"] == "python" and hook["entry"].split()[0] == "tinnhiem" and hook["name"]
        files = re.compile(hook["files"])
        assert files.search("policy/thanhhoa-kh134.policy") and not files.search("README.md") and not files.search("a.policy.bak")
    policy = tmp_path / "x.policy"
    shutil.copy(GOOD, policy)
    broken = tmp_path / "broken.policy"
    broken.write_text(GOOD.read_text(encoding="utf-8").replace("holds(btv)", "holds(btvv)"), encoding="utf-8")

    def hook(hook_id: str, *files: Path) -> subprocess.CompletedProcess:
        argv = by_id[hook_id]["entry"].split() + list(by_id[hook_id].get("args", [])) + [str(f) for f in files]
        argv[0] = str(BIN / argv[0])
        return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)

    assert hook("tinnhiem-check", policy).returncode == 0
    failed = hook("tinnhiem-check", policy, broken)
    assert failed.returncode == 2 and "error[E203]" in failed.stderr
    assert hook("tinnhiem-test", policy).returncode in (0, 1)
    assert hook("tinnhiem-fmt", policy).returncode == 0
    assert hook("tinnhiem-fmt-check", policy).returncode == 0  # canonical after tinnhiem-fmt


# ---- the GitHub Action ----------------------------------------------------------------------------------


ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {s.get("id") or s.get("name"): s for s in ACTION["runs"]["steps"]}


def test_the_action_is_composite_and_takes_inputs_from_the_environment_only():
    assert ACTION["runs"]["using"] == "composite" and ACTION["name"] and ACTION["description"]
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], f"{step['name']}: an expression spliced into a script"
            for expr in re.findall(r"\$\{\{\s*inputs\.([\w-]+)", json.dumps(step.get("env", {}))):
                assert expr in ACTION["inputs"], expr
        else:
            assert re.fullmatch(r"(actions/setup-python|github/codeql-action/upload-sarif)@v\d+", step["uses"])
    assert "tinnhiem \"${args[@]}\"" in STEPS["check"]["run"] and "--format sarif" in STEPS["check"]["run"]
    upload = next(s for s in ACTION["runs"]["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert "always()" in upload["if"] and upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    assert ACTION["runs"]["steps"][-1]["run"].rstrip().endswith('exit "${TINNHIEM_EXIT:-3}"')


def _run_check_step(tmp_path: Path, cwd: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The Action's check step as GitHub runs it (bash -e -o pipefail), tinnhiem on the PATH."""
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TINNHIEM_"))}
    env |= {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "GITHUB_OUTPUT": str(output), "GITHUB_WORKSPACE": str(cwd)}
    defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    for name, value in STEPS["check"]["env"].items():
        key = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value).group(1)
        env[name] = inputs.get(key.replace("-", "_"), defaults[key])
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", STEPS["check"]["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)
    return proc, outputs


def test_the_action_checks_annotates_and_keeps_the_problems(tmp_path):
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    shutil.copy(GOOD, repo / "policies" / "good.policy")
    shutil.copy(ROOT / "tests" / "checker" / "bad" / "bands_cover.policy", repo / "policies" / "bad.policy")
    (repo / "policies" / "broken.policy").write_text(GOOD.read_text(encoding="utf-8").replace("holds(btv)", "holds(btvv)"),
                                                     encoding="utf-8")
    proc, outputs = _run_check_step(tmp_path, repo)  # no paths: every *.policy file (no git here: found by find)
    assert proc.returncode == 0, proc.stderr  # the step itself passes; the last step exits with the code
    assert outputs == {"exit-code": "2", "sarif-file": "tinnhiem.sarif"}
    log = json.loads((repo / "tinnhiem.sarif").read_text(encoding="utf-8"))
    kinds = {r["kind"] for r in log["runs"][0]["results"]}
    assert kinds <= {"fail", "open"} and "fail" in kinds  # only the problems are left for code scanning
    rules = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {"E203", "builtin.bands_cover"} <= rules
    assert re.search(r"^::error file=policies/broken\.policy,line=\d+,col=\d+,title=tinnhiem E203::.*unknown title 'btvv'", proc.stdout, re.M)
    assert re.search(r"^::error file=policies/bad\.policy,line=\d+,col=\d+,title=tinnhiem builtin\.bands_cover::", proc.stdout, re.M)

    proc, outputs = _run_check_step(tmp_path, repo, paths="policies/good.policy", only_problems="false", annotations="false")
    assert proc.returncode == 0 and outputs["exit-code"] == "0" and "::" not in proc.stdout
    log = json.loads((repo / "tinnhiem.sarif").read_text(encoding="utf-8"))
    assert {r["kind"] for r in log["runs"][0]["results"]} == {"pass", "notApplicable"}

    empty = tmp_path / "empty"
    empty.mkdir()
    proc, outputs = _run_check_step(tmp_path, empty)
    assert proc.returncode == 0 and outputs == {"exit-code": "2"} and "::error" in proc.stdout
