"""Human-readable reports in the terminal (rich).

Takes a decision document (:mod:`tinnhiem.report`) or a decision trace; produces a table with a row
per cadre and venue (the venue; the share of low votes as an exact fraction and a percentage, then each
level's count and percentage, written as the official texts write them, ``97,5%``; band, consequences
in Vietnamese, outcome, citations), the rejected rows, and a summary; or, for ``explain``, the numbered
trace of the rules that fired with their quoted text.

Every text that comes from an input or a policy (names, units, reasons, labels, consequences,
citations, rejected rows' reasons) reaches rich as a :class:`rich.text.Text`, never as a ``str``:
rich would read square brackets in a ``str`` as markup (``[/oops]`` crashes, ``[tạm thời]``
vanishes) and ``:smile:`` as an emoji code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dsl import ir
from dsl.evaluator import Decision, Plan

STATUS_VI = {"voted": "lấy phiếu", "exempt": "không lấy phiếu (miễn)", "out_of_scope": "ngoài phạm vi"}
OUTCOME_VI = {"missing_tally": "thiếu kết quả kiểm phiếu", "invalid_session": "hội nghị không đủ điều kiện (số có mặt)"}


def plain(text: str, style: str = "") -> Text:
    """``text`` exactly as written: no markup, no emoji codes."""
    return Text(text, style=style)


def _row(cells: Sequence[str]) -> list[Text]:
    return [plain(c) for c in cells]


def render_document(doc: dict[str, Any], console: Console, policy: ir.Policy, limit: int | None = None) -> None:
    pol = doc["policy"]
    inputs = doc["inputs"]
    head = Text()
    head.append(f"{policy.name or pol['name']}\n", style="bold")
    head.append(f"policy {pol['name']} ({pol['file']}) sha256 {pol['sha256'][:16]}…  ·  năm lấy phiếu {doc['year']}\n")
    head.append(f"roster {inputs['roster']} sha256 {inputs['roster_sha256'][:16]}…")
    if "tallies_sha256" in inputs:
        head.append(f"  ·  tallies sha256 {inputs['tallies_sha256'][:16]}…")
    console.print(Panel(head, title="tinnhiem", box=box.ROUNDED))

    evaluated = "tallies_sha256" in inputs
    table = Table(box=box.SIMPLE_HEAVY, expand=False)
    table.add_column("Cán bộ", overflow="fold", min_width=14)
    table.add_column("Chức danh", overflow="fold", min_width=15)
    table.add_column("Trạng thái", overflow="fold", min_width=10, max_width=28)
    table.add_column("Nơi lấy phiếu", min_width=12)
    if evaluated:
        table.add_column("Phiếu thấp · các mức", min_width=12)
        table.add_column("Mức", min_width=12)
        table.add_column("Kết quả", min_width=12)
    table.add_column("Căn cứ", overflow="fold", min_width=12, max_width=24)
    cadres = doc["cadres"]
    shown = cadres if limit is None else cadres[:limit]
    legend: dict[str, tuple[str, list[str], list[str], str]] = {}
    for c in shown:
        who = f"{c['cadre_id']}\n{c['full_name']}" if c["full_name"] else c["cadre_id"]
        if c["exemptions"]:
            status = "miễn: " + "; ".join(x["reason"] for x in c["exemptions"])
        else:
            status = STATUS_VI.get(c["status"], c["status"])
        if c.get("warnings"):
            status += "\n⚠ " + "\n⚠ ".join(c["warnings"])
        cadre = [who, "\n".join(c["titles"]) or "—", status]
        cites = compress_cites(c["cites"]) or "—"
        if not evaluated:
            table.add_row(*_row([*cadre, "\n".join(v["venue"] for v in c["venues"]) or "—", cites]), end_section=True)
            continue
        outcome = c["outcome"] or "—"
        if c.get("stages") and (c.get("next_stage") or c.get("final") != c["outcome"]):
            # the procedure goes on: the stage to hold next, or the final result of the later votes
            outcome += f"\n→ {c['next_stage']}" if c.get("next_stage") else f"\n→ {c['final'] or '—'}"
        if c.get("outcome_label"):
            legend.setdefault(outcome, (c["outcome_label"], [], [], ""))
        elif outcome in OUTCOME_VI:
            legend.setdefault(outcome, (OUTCOME_VI[outcome], [], [], ""))
        # one row per venue, so that a venue's figures and band stay beside it however the cells wrap;
        # the cadre's own cells are on the first
        venues = c["venues"] or [None]
        for i, v in enumerate(venues):
            own = [*cadre] if i == 0 else ["", "", ""]
            tail = [outcome, cites] if i == 0 else ["", ""]
            if v is None:
                cells = ["—", "—", "—"]
            elif v.get("tally") == "missing":
                cells = [v["venue"], "—", "thiếu phiếu"]
            else:
                band = v["band"] or "—"
                if v.get("session_valid") is False:
                    band += " ✗"
                if v["band"]:
                    legend.setdefault(f"{v['band']} ({v['band_set']})", (v["band_label"], v["must"], v["options"], v["cite"]))
                cells = [v["venue"], tally_cell(v), band]
            table.add_row(*_row([*own, *cells, *tail]), end_section=i == len(venues) - 1)
    console.print(table)
    if limit is not None and len(cadres) > limit:
        console.print(plain(f"… {len(cadres) - limit} more cadres (all of them are in --format json/csv, or without --limit)"))
    if legend:
        leg = Table(title="Mức và hệ quả (bands and consequences)", box=box.SIMPLE, show_lines=True)
        leg.add_column("Mức / kết quả", no_wrap=True)
        leg.add_column("Nghĩa", overflow="fold", max_width=40)
        leg.add_column("Hệ quả", overflow="fold", max_width=70)
        leg.add_column("Căn cứ", overflow="fold", max_width=16)
        for code, (label, must, options, cite) in sorted(legend.items()):
            cons = "\n".join([f"• {m}" for m in must] + [f"◦ hoặc: {o}" for o in options]) or "—"
            leg.add_row(*_row([code, label, cons, cite or ""]))
        console.print(leg)
        q = policy.quorum
        quorum = f"  ✗ hội nghị không đủ điều kiện (có mặt {q.op} {q.ratio} số được triệu tập)" if q else ""
        console.print(plain("• bắt buộc (mandatory)  ◦ cấp có thẩm quyền chọn (options for the competent authority)" + quorum))

    if doc["rejected"]:
        rej = Table(title="Dòng bị từ chối (rejected rows)", box=box.SIMPLE)
        rej.add_column("file:line")
        rej.add_column("cadre_id")
        rej.add_column("reason", overflow="fold")
        for r in doc["rejected"]:
            rej.add_row(*_row([f"{r['file']}:{r['line']}", r.get("cadre_id") or "", r["reason"]]))
        console.print(rej)

    s = doc["summary"]
    summ = Table(title="Tổng hợp (summary)", box=box.SIMPLE, show_header=False)
    summ.add_column("what")
    summ.add_column("count", justify="right")
    what = "tally rows" if evaluated else "roster rows"
    rows = [(f"{what} read", str(s["rows_read"])), (f"{what} evaluated", str(s["rows_evaluated"])),
            (f"{what} rejected", str(s["rows_rejected"]))]
    if s.get("rows_skipped"):
        rows.append((f"{what} skipped (blank or empty cells)", str(s["rows_skipped"])))
    if evaluated and s.get("roster_skipped"):
        rows.append(("roster rows skipped (blank or empty cells)", str(s["roster_skipped"])))
    if evaluated:
        rows.append(("roster rows read / rejected", f"{s['roster_rows']} / {s['roster_rejected']}"))
    rows.append(("cadres: voted · exempt · out of scope", f"{s['voted']} · {s['exempt']} · {s['out_of_scope']}"))
    if evaluated:
        rows.append(("planned venues with no tally", str(s["missing_tallies"])))
        rows += [(f"outcome {k}", str(n)) for k, n in s["outcomes"].items()]
    rows += [(f"venue {venue}", ", ".join(f"{k} {n}" for k, n in counts.items())) for venue, counts in s["venues"].items()]
    for row in rows:
        summ.add_row(*_row(row))
    console.print(summ)


#: The levels of a ballot as the table names them (tín nhiệm cao, tín nhiệm, tín nhiệm thấp).
LEVELS_VI = (("high", "cao"), ("confidence", "tín nhiệm"), ("low", "thấp"))


def tally_cell(v: dict[str, Any]) -> str:
    """A venue's tally, a line each: the low share over the base, exact and as the official texts write
    it (``1/80 = 1,25%``), then each level's count and percentage (``cao 78 (97,5%)``, ``tín nhiệm 1
    (1,25%)``, ``thấp 1 (1,25%)``). A line per level keeps the cell narrow, and no level is cut in two
    when the terminal is narrow."""
    percents = v.get("percents") or {}
    den = v.get("base_count", v.get(v.get("denominator", "collected")))
    low = percents.get("low")
    first = f"{v['low']}/{den} = {low}" if low is not None else f"{v['low']}/{den}"
    levels = [f"{name} {v[key]}" + (f" ({percents[key]})" if percents.get(key) is not None else "") for key, name in LEVELS_VI]
    return "\n".join([first, *levels])


def compress_cites(labels: list[str]) -> str:
    """["KH134 P3", "KH134 P5", "NQ96 các mức"] → "KH134 P3, P5; NQ96 các mức"."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        doc, _, para = label.partition(" ")
        groups.setdefault(doc, []).append(para)
    return "; ".join(f"{doc} {', '.join(paras)}" for doc, paras in groups.items())


def render_trace(console: Console, policy: ir.Policy, cadre_line: str, plan: Plan, decision: Decision | None) -> None:
    steps = decision.trace if decision else plan.trace
    console.print(Panel(plain(cadre_line), title="explain", box=box.ROUNDED))
    if not steps:
        console.print(plain("No rule fired: the cadre holds no title in scope at this level and no exemption applies."))
    items = []
    for i, step in enumerate(steps, 1):
        t = Text()
        t.append(f"{i:>2}. ", style="bold")
        t.append(f"[{step.kind}] ", style="cyan")
        t.append(f"{step.rule}: ", style="bold")
        t.append(step.detail)
        if step.cite:
            t.append(f"\n    {step.cite.label} — {step.cite.doc_title}", style="dim")
            t.append(f"\n    “{step.cite.quote}”", style="italic")
        items.append(t)
    console.print(Group(*items))
    status = STATUS_VI.get(plan.status, plan.status)
    line = f"status: {plan.status} ({status}); venues: {', '.join(plan.venues) or 'none'}"
    if decision is not None:
        line += f"; outcome: {decision.outcome or 'null'}"
        for r in decision.stages:  # the procedure: each later vote, then where it ends
            line += f"; {r.stage.name}: " + (r.band.code if r.band else {"due": "to be held", "decided": "no band",
                                                                           "not_due": "not due"}[r.status])
        if decision.stages:
            line += f"; final: {decision.final or 'pending'}"
    console.print(Text(line, style="bold"))
