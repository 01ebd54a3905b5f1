"""The I/O rules, each reproduced as the user met it: the installed command run as a subprocess.

Inputs are opened once (a pipe on a terminal loses no row); ``--output`` never replaces an input;
an output is written whole or not at all (Ctrl-C leaves the old file and no temporary; every command
exits 130); imports stay in the policy root and a diagnostic never echoes a foreign file; blank rows
are skipped and counted; reads are bounded; a full disk or a closed pipe is the environment, not a bug;
text is NFC; one integer rule; the files Excel writes get a hint or are read.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES_DIR, POLICY_DIR

TN = [sys.executable, "-m", "tinnhiem"]
ROSTER = EXAMPLES_DIR / "roster.csv"
TALLIES = EXAMPLES_DIR / "tallies.csv"
HEADER = "cadre_id,full_name,level,unit,titles,retirement_notice,appointed_year"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TINNHIEM_DEBUG"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def run(*args: str, cwd: Path, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*TN, *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout, env=_env())
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def _no_bug(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr


# ---- 1. an input is opened once ------------------------------------------------------------------------


def test_tallies_through_a_pipe_on_a_terminal_lose_no_row(tmp_path: Path) -> None:
    """On a terminal the progress bar used to size itself by reading the input again, draining the pipe:
    208 of 1,205 rows were read. Now every row is read and the hash is that of every byte."""
    data = TALLIES.read_bytes()
    read_fd, write_fd = os.pipe()
    master, slave = pty.openpty()
    out = tmp_path / "o.json"
    proc = subprocess.Popen([*TN, "evaluate", "--roster", str(ROSTER), "--tallies", f"/dev/fd/{read_fd}", "--format", "json",
                             "--output", str(out)], cwd=tmp_path, stdin=slave, stdout=slave, stderr=slave,
                            pass_fds=(read_fd,), env=_env())
    os.close(slave)
    os.close(read_fd)

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as w:
            for i in range(0, len(data), 4096):
                w.write(data[i:i + 4096])
                w.flush()

    threading.Thread(target=feed, daemon=True).start()
    screen = b""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                screen += os.read(master, 65536)
            except OSError:
                break
    assert proc.wait(timeout=10) == 0, screen[-2000:]
    os.close(master)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["summary"]["rows_read"] == data.count(b"\n") - 1 == 1205
    assert doc["inputs"]["tallies_sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("how", ["dash", "dev_stdin"])
def test_standard_input_works_as_a_file(tmp_path: Path, how: str) -> None:
    name = "-" if how == "dash" else "/dev/stdin"
    piped = run("evaluate", "--roster", str(ROSTER), "--tallies", name, "--format", "json", cwd=tmp_path,
                stdin=TALLIES.read_bytes())
    direct = run("evaluate", "--roster", str(ROSTER), "--tallies", str(TALLIES), "--format", "json", cwd=tmp_path)
    assert piped.returncode == direct.returncode == 0
    a, b = json.loads(piped.stdout), json.loads(direct.stdout)
    assert a["cadres"] == b["cadres"] and a["summary"] == b["summary"]
    assert a["inputs"]["tallies_sha256"] == b["inputs"]["tallies_sha256"]


def test_a_fifo_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "tallies.fifo"
    os.mkfifo(fifo)
    threading.Thread(target=lambda: fifo.write_bytes(TALLIES.read_bytes()), daemon=True).start()
    p = run("evaluate", "--roster", str(ROSTER), "--tallies", str(fifo), "--format", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["summary"]["rows_read"] == 1205


# ---- 2. --output never replaces an input ---------------------------------------------------------------


def _same_file_spellings(tmp_path: Path, target: Path) -> list[str]:
    (tmp_path / "link.csv").symlink_to(target)
    os.link(target, tmp_path / "hard.csv")
    return [str(target), f"./{target.name}", "link.csv", "hard.csv"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "jsonl"])
def test_output_naming_the_roster_is_refused(tmp_path: Path, fmt: str) -> None:
    roster = tmp_path / "r.csv"
    roster.write_bytes(ROSTER.read_bytes())
    for spelling in _same_file_spellings(tmp_path, roster):
        p = run("plan", "--roster", "r.csv", "--format", fmt, "--output", spelling, cwd=tmp_path)
        assert p.returncode == 2 and "would destroy the input" in p.stderr, (spelling, p.stderr)
        assert roster.read_bytes() == ROSTER.read_bytes()
        (tmp_path / "link.csv").unlink(missing_ok=True) if spelling == "link.csv" else None
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_output_naming_the_tallies_or_the_policy_is_refused(tmp_path: Path) -> None:
    tallies = tmp_path / "t.csv"
    tallies.write_bytes(TALLIES.read_bytes())
    p = run("evaluate", "--roster", str(ROSTER), "--tallies", "t.csv", "--format", "csv", "--output", "t.csv", cwd=tmp_path)
    assert p.returncode == 2 and tallies.read_bytes() == TALLIES.read_bytes()
    for name in ("thanhhoa-kh134.policy", "qd96.policy", "nq96-qh15.policy"):
        (tmp_path / name).write_bytes((POLICY_DIR / name).read_bytes())
    imported = tmp_path / "qd96.policy"  # an import of the policy given is an input too
    p = run("plan", "--roster", str(ROSTER), "--policy", "thanhhoa-kh134.policy", "--format", "json", "--output", str(imported),
            cwd=tmp_path)
    assert p.returncode == 2 and imported.read_bytes() == (POLICY_DIR / "qd96.policy").read_bytes()
    for cmd in (["check", "qd96.policy", "--output", "qd96.policy"], ["diff", "qd96.policy", "thanhhoa-kh134.policy", "--output", "qd96.policy"]):
        p = run(*cmd, cwd=tmp_path)
        assert p.returncode == 2 and "would destroy the input" in p.stderr, (cmd, p.stderr)
        assert imported.read_bytes() == (POLICY_DIR / "qd96.policy").read_bytes()


# ---- 3. an output is written whole, or not at all ------------------------------------------------------


def _big_inputs(tmp_path: Path, copies: int) -> tuple[Path, Path]:
    """The sample province repeated with fresh ids: a run long enough to be interrupted mid-write."""
    roster_lines = ROSTER.read_text(encoding="utf-8").splitlines()
    tally_lines = TALLIES.read_text(encoding="utf-8").splitlines()
    r, t = [roster_lines[0]], [tally_lines[0]]
    for k in range(copies):
        r += [f"K{k}_{line}" for line in roster_lines[1:]]
        t += [f"K{k}_{line}" for line in tally_lines[1:]]
    (tmp_path / "big_r.csv").write_text("\n".join(r) + "\n", encoding="utf-8")
    (tmp_path / "big_t.csv").write_text("\n".join(t) + "\n", encoding="utf-8")
    return tmp_path / "big_r.csv", tmp_path / "big_t.csv"


def test_ctrl_c_while_writing_leaves_the_previous_report_and_no_temporary(tmp_path: Path) -> None:
    roster, tallies = _big_inputs(tmp_path, 60)
    out = tmp_path / "out.csv"
    out.write_text("the previous complete report\n", encoding="utf-8")
    args = [*TN, "evaluate", "--roster", str(roster), "--tallies", str(tallies), "--format", "csv", "--output", str(out)]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    # wait until the report is being written (its temporary file exists), then press Ctrl-C
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(f.startswith(".out.csv.") for f in os.listdir(tmp_path)):
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted: make the input larger"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out.read_text(encoding="utf-8") == "the previous complete report\n"
    assert sorted(os.listdir(tmp_path)) == ["big_r.csv", "big_t.csv", "out.csv"]


def test_a_complete_run_replaces_the_report_keeping_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    p = run("plan", "--roster", str(ROSTER), "--format", "csv", "--output", "plan.csv", cwd=tmp_path)
    assert p.returncode == 0 and out.read_text(encoding="utf-8").startswith("cadre_id,")
    assert out.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["plan.csv"]


def test_ctrl_c_during_a_proof_exits_130(tmp_path: Path) -> None:
    """Z3 catches SIGINT itself and answers 'unknown' (as for a timeout): check used to exit 3."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.policies import write_policy

    path = write_policy(tmp_path, 1000, 20)
    (tmp_path / "b").mkdir()
    other = write_policy(tmp_path / "b", 1000, 19)  # a version that differs: diff works for seconds
    for cmd in (["check", str(path)], ["diff", str(path), str(other), "--policy-root", str(tmp_path)]):
        proc = subprocess.Popen([*TN, *cmd], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        time.sleep(2.5)
        if proc.poll() is not None:
            continue  # finished before the signal (a fast machine): nothing to interrupt
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (cmd, err)
        assert b"interrupted" in err and b"Traceback" not in err


# ---- 4. imports confined; diagnostics never echo a foreign file ---------------------------------------


def test_a_symlink_to_the_environment_is_refused_without_showing_it(tmp_path: Path) -> None:
    (tmp_path / "leak.policy").symlink_to("/proc/self/environ")
    (tmp_path / "imports.policy").write_text('policy x { name "x" }\nimport "leak.policy" as leak\n', encoding="utf-8")
    env = _env() | {"TINNHIEM_SECRET": "s3cr3t-value-42"}
    for cmd in (["check", "leak.policy"], ["check", "imports.policy"], ["test", "imports.policy"],
                ["plan", "--roster", str(ROSTER), "--policy", "leak.policy"]):
        p = subprocess.run([*TN, *cmd], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 2, (cmd, p.stderr)
        assert "s3cr3t" not in p.stdout + p.stderr and "PATH=" not in p.stderr
        assert "E005" in p.stderr and "outside the policy root" in p.stderr


def test_imports_outside_the_root_are_refused_unless_the_root_is_widened(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "qd96.policy").write_bytes((POLICY_DIR / "qd96.policy").read_bytes())
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "p.policy").write_text('policy p { name "p" }\nimport "../lib/qd96.policy" as qd96\n', encoding="utf-8")
    (plans / "abs.policy").write_text(f'policy a {{ name "a" }}\nimport "{lib / "qd96.policy"}" as qd96\n', encoding="utf-8")
    for name in ("p.policy", "abs.policy"):
        p = run("check", f"plans/{name}", cwd=tmp_path)
        assert p.returncode == 2 and "E005" in p.stderr, p.stderr
        widened = run("check", f"plans/{name}", "--policy-root", str(tmp_path), cwd=tmp_path)
        assert "E005" not in widened.stderr and widened.returncode in (0, 1), widened.stderr


def test_a_long_line_with_control_characters_is_quoted_short_and_escaped(tmp_path: Path) -> None:
    (tmp_path / "bad.policy").write_text("policy x { name \"x\" }\n" + "\x1b[31m" + "y" * 100_000 + " ??? }\n", encoding="utf-8")
    p = run("check", "bad.policy", cwd=tmp_path)
    assert p.returncode == 2
    assert len(p.stderr) < 2000 and "\x1b" not in p.stderr and "\\x1b" in p.stderr


# ---- 7. blank lines before the header, empty rows -----------------------------------------------------


def test_blank_lines_and_empty_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = ROSTER.read_text(encoding="utf-8").splitlines()
    (tmp_path / "r.csv").write_text("\n,,,,,,\n" + lines[0] + "\n" + lines[1] + "\n,,,,,,\n\n" + lines[2] + "\n", encoding="utf-8")
    p = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)["summary"]
    assert (s["rows_read"], s["rows_evaluated"], s["rows_rejected"], s["rows_skipped"]) == (2, 2, 0, 4)
    assert [c["line"] for c in json.loads(p.stdout)["cadres"]] == [4, 7]


# ---- 8. reads are bounded ------------------------------------------------------------------------------


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero"])
def test_a_device_as_input_ends_quickly_in_bounded_memory(tmp_path: Path, device: str) -> None:
    for args in (["plan", "--roster", device], ["evaluate", "--roster", str(ROSTER), "--tallies", device]):
        start = time.monotonic()
        proc = subprocess.run([*TN, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=_env(),
                              preexec_fn=_limited)
        assert proc.returncode == 2, proc.stderr
        assert "MemoryError" not in proc.stderr and "internal error" not in proc.stderr
        assert time.monotonic() - start < 30


def test_a_policy_that_is_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "z.policy").symlink_to("/dev/zero")
    p = subprocess.run([*TN, "fmt", "--check", "z.policy"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env=_env(), preexec_fn=_limited)
    assert p.returncode == 2 and "internal error" not in p.stderr


# ---- 9. the environment is not a bug -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "jsonl"])
def test_a_full_disk_exits_2_with_a_message(tmp_path: Path, fmt: str) -> None:
    p = run("plan", "--roster", str(ROSTER), "--format", fmt, "--output", "/dev/full", cwd=tmp_path)
    assert p.returncode == 2 and "No space left on device" in p.stderr, p.stderr
    _no_bug(p)
    with open("/dev/full", "w") as full:
        q = subprocess.run([*TN, "plan", "--roster", str(ROSTER), "--format", fmt], cwd=tmp_path, stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60, env=_env())
    assert q.returncode == 2 and "No space left on device" in q.stderr, q.stderr
    assert "Exception ignored" not in q.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen([*TN, "plan", "--roster", str(ROSTER), "--format", "csv"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env())
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read() if proc.stderr else b""
    assert proc.wait(timeout=60) == 128 + signal.SIGPIPE and err == b""


def test_an_output_folder_that_does_not_exist(tmp_path: Path) -> None:
    p = run("plan", "--roster", str(ROSTER), "--format", "json", "--output", "missing/plan.json", cwd=tmp_path)
    assert p.returncode == 2 and "cannot write" in p.stderr
    _no_bug(p)


# ---- 10. NFC, booleans, one integer rule ---------------------------------------------------------------


def test_text_is_compared_in_nfc(tmp_path: Path) -> None:
    import unicodedata

    (tmp_path / "r.csv").write_text(f"{HEADER}\nHÀ01,Nguyễn Văn Hà,province,Tỉnh ủy,bi_thu,KHÔNG,2020\n", encoding="utf-8")
    nfd = unicodedata.normalize("NFD", "HÀ01")
    (tmp_path / "t.csv").write_text(f"cadre_id,venue,issued,collected,high,confidence,low\n{nfd},cap_uy,50,50,40,8,2\n",
                                    encoding="utf-8")
    p = run("evaluate", "--roster", "r.csv", "--tallies", "t.csv", "--format", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["summary"]["rows_evaluated"] == 1


@pytest.mark.parametrize("word", ["có", "CÓ", "Có", "không", "KHÔNG", "Yes", "FALSE"])
def test_booleans_in_vietnamese_and_any_case(tmp_path: Path, word: str) -> None:
    import unicodedata

    for form in ("NFC", "NFD"):
        cell = unicodedata.normalize(form, word)
        (tmp_path / "r.csv").write_text(f"{HEADER}\nA1,A,province,U,bi_thu,{cell},2020\n", encoding="utf-8")
        p = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
        assert p.returncode == 0, p.stdout


@pytest.mark.parametrize("cell", ["1_205", "１２", "+5", "1e3", "-1", "9" * 19, "9" * 5000])
def test_one_integer_rule_for_counts(tmp_path: Path, cell: str) -> None:
    (tmp_path / "r.csv").write_text(f"{HEADER}\nA1,A,province,U,bi_thu,false,2020\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(f"cadre_id,venue,issued,collected,high,confidence,low\nA1,cap_uy,{cell},50,40,8,2\n",
                                    encoding="utf-8")
    p = run("evaluate", "--roster", "r.csv", "--tallies", "t.csv", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    _no_bug(p)
    rejected = json.loads(p.stdout)["rejected"]
    assert len(rejected) == 1 and rejected[0]["line"] == 2 and "issued" in rejected[0]["reason"]
    assert len(rejected[0]["reason"]) < 200


@pytest.mark.parametrize("cell", ["２０２０", "2_020", "9" * 5000])
def test_one_integer_rule_for_years_in_the_roster(tmp_path: Path, cell: str) -> None:
    (tmp_path / "r.csv").write_text(f"{HEADER}\nA1,A,province,U,bi_thu,false,{cell}\n", encoding="utf-8")
    p = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1 and "appointed_year" in json.loads(p.stdout)["rejected"][0]["reason"]


@pytest.mark.parametrize(("option", "value"), [("--year", "２０２３"), ("--year", "2_023"), ("--limit", "0"), ("--limit", "-1"),
                                               ("--limit", "x")])
def test_one_integer_rule_for_options(tmp_path: Path, option: str, value: str) -> None:
    p = run("plan", "--roster", str(ROSTER), option, value, cwd=tmp_path)
    assert p.returncode == 2 and option in p.stderr, p.stderr
    _no_bug(p)


# ---- 11. the files Excel writes ------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, sep: str) -> None:
    import csv

    rows = list(csv.reader(ROSTER.read_text(encoding="utf-8").splitlines()))
    with open(tmp_path / "r.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows(rows)
    a = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
    b = run("plan", "--roster", str(ROSTER), "--format", "json", cwd=tmp_path)
    assert a.returncode == b.returncode == 0
    assert json.loads(a.stdout)["cadres"] == json.loads(b.stdout)["cadres"]


def test_a_title_case_header_is_matched(tmp_path: Path) -> None:
    lines = ROSTER.read_text(encoding="utf-8").splitlines()
    lines[0] = ",".join(h.title() for h in lines[0].split(","))
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["summary"]["rows_evaluated"] == len(lines) - 1


@pytest.mark.parametrize(("data", "says"), [
    ((HEADER + "\n").encode("utf-16"), "UTF-16"),
    (b"PK\x03\x04" + b"\x00" * 40, "workbook"),
])
def test_excel_files_that_are_not_csv_get_a_hint(tmp_path: Path, data: bytes, says: str) -> None:
    (tmp_path / "r.csv").write_bytes(data)
    p = run("plan", "--roster", "r.csv", cwd=tmp_path)
    assert p.returncode == 2 and says in p.stderr and "CSV UTF-8" in p.stderr, p.stderr


def test_a_duplicate_id_never_blames_a_valid_row_for_a_rejected_one(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(f"{HEADER}\nA1,A,provinc,U,bi_thu,false,2020\nA1,A,province,U,bi_thu,false,2020\n",
                                    encoding="utf-8")
    p = run("plan", "--roster", "r.csv", "--format", "json", cwd=tmp_path)
    doc = json.loads(p.stdout)
    assert [r["line"] for r in doc["rejected"]] == [2] and "unknown level" in doc["rejected"][0]["reason"]
    assert [c["line"] for c in doc["cadres"]] == [3]


# ---- 6. formula text in a header -----------------------------------------------------------------------


def test_a_formula_in_an_extra_column_name_is_neutralised(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(f'{HEADER},"=HYPERLINK(""http://x"",""y"")"\nA1,A,province,U,bi_thu,false,2020,z\n',
                                    encoding="utf-8")
    p = run("plan", "--roster", "r.csv", "--format", "csv", cwd=tmp_path)
    header = p.stdout.splitlines()[0]
    assert "'=HYPERLINK" in header and ",=HYPERLINK" not in header and ',"=HYPERLINK' not in header
