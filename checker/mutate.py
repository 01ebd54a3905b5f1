"""Mutation score of the checker: how many real changes to a policy does ``check`` notice?

Takes a bundle of policy files (by default the three bundled policies; ``--policy P`` takes ``P`` and
the files it imports) and produces, for each file to mutate, every *mutant* — the file with one small
change, printed by the canonical printer — and its :class:`Verdict`:

- ``stillborn`` — the mutated file no longer loads (a diagnostic of its own): not counted;
- ``equivalent`` — Z3 shows that the mutant decides exactly as the original for every input
  (:func:`equivalent`): status, exemptions, proposed venues, venues, each venue's band and session
  validity, the outcome, and the band every band set decides for every valid tally — for the mutated
  policy and every policy of the bundle that imports it: not counted;
- ``killed`` — non-equivalent, and ``check`` notices: a property refuted (or an internal error), an
  acknowledged finding gone stale, a policy of the bundle that no longer loads (a diagnostic), or a
  worked example of the policy failing (``tinnhiem test``); each :class:`Kill` says which;
- ``survived`` — non-equivalent and nothing notices; the verdict carries a *witness*, an input that
  the original and the mutant decide differently (the brief's CSV rows and both decisions).

The operators (:func:`mutants`): thresholds ±1 percentage point and ±1/1 000 000, strict ↔ non-strict,
comparison operators flipped, a dropped ``not``, a dropped conjunct or disjunct, ``and`` ↔ ``or``, a
negated condition, a title dropped from ``holds(...)``, a dropped exemption, a dropped or reversed
exception (``overrides``), venues swapped in priority order, venue items swapped, dropped, or made
unconditional, ``max_venues`` ±1, a title dropped from a scope rule, a tag dropped from a title, bands
swapped in order, severities swapped, a dropped band, the quorum's ratio and operator, the share's
denominator, ``two_venues`` dropped, ``vote_year`` ±1.

The command is :mod:`tinnhiem.mutate_command` (``python -m tinnhiem.mutate_command``); this module
never prints or exits.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import z3

from checker.decode import roster_row, tally_row
from checker.encode import Domain, Encoder
from checker.fuzz_oracle import DecisionView, compiled_sets, evaluator_view
from checker.pairwise import band_options, decision_terms, differs, options_differ, verify_equivalent
from checker.solve import Checker
from checker.strategies import FuzzInput
from dsl import ir
from dsl import syntax as s
from dsl.diagnostics import PolicyError
from dsl.evaluator import Evaluator, run_example
from dsl.loader import load_policy
from dsl.parser import parse
from dsl.printer import format_file

Status = Literal["killed", "survived", "equivalent", "stillborn"]
KillKind = Literal["refuted", "stale", "internal_error", "error", "example"]

_STRICT = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "!=", "!=": "="}
_NUDGES = ((Fraction(1, 100), "1 point"), (Fraction(1, 10**6), "1/1000000"))
_DENOMINATORS = {"collected": "issued", "issued": "collected", "convened": "present", "present": "convened"}


@dataclass(frozen=True)
class Mutant:
    id: str  # "<file>#<n>"
    file: str  # the mutated file's name in the bundle
    line: int
    operator: str
    description: str
    text: str  # the mutated file, in canonical layout


@dataclass(frozen=True)
class Kill:
    kind: KillKind
    policy: str  # the policy (file) where check notices
    detail: str  # the property, acknowledgement, diagnostic or example


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: Status
    kills: tuple[Kill, ...] = ()
    witness: str = ""  # for a non-equivalent mutant: an input decided differently
    seconds: float = 0.0


# ---- the operators --------------------------------------------------------------------------------


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


Mut = tuple[str, str, object]  # (operator, description, the new node)


def _expr_mutants(e: s.Expr) -> Iterator[Mut]:
    """Every one-step mutation inside a condition (the nodes rebuilt up to ``e``)."""
    match e:
        case s.Compare(op=op, left=left, right=right, scale=k) if k is not None:
            for op_name, d, new in _expr_mutants(k):
                yield op_name, f"part {d}", replace(e, scale=new)
            for op_name, d, new in _expr_mutants(replace(e, scale=None)):  # operator and sides, the part kept
                yield op_name, d, replace(new, scale=k) if isinstance(new, s.Compare) else new
        case s.Compare(op=op, left=left, right=right):
            if op in _STRICT:
                yield "strictness", f"'{op}' → '{_STRICT[op]}'", replace(e, op=_STRICT[op])
            yield "operator", f"'{op}' → '{_FLIP[op]}'", replace(e, op=_FLIP[op])
            for op_name, d, new in _expr_mutants(left):
                yield op_name, d, replace(e, left=new)
            for op_name, d, new in _expr_mutants(right):
                yield op_name, d, replace(e, right=new)
        case s.RatioLit(value=v, text=t):
            for delta, what in _NUDGES:
                for sign, word in ((1, "+"), (-1, "-")):
                    nv = v + sign * delta
                    if 0 <= nv <= 1:
                        yield "threshold", f"{t} → {_ratio(nv)} ({word}{what})", replace(e, value=nv, text=_ratio(nv))
        case s.IntLit(value=v):
            yield "number", f"{v} → {v + 1}", replace(e, value=v + 1)
            if v > 0:
                yield "number", f"{v} → {v - 1}", replace(e, value=v - 1)
        case s.Not(operand=o):
            yield "negation", "drop 'not'", o
            for op_name, d, new in _expr_mutants(o):
                yield op_name, d, replace(e, operand=new)
        case s.And(operands=ops) | s.Or(operands=ops):
            word, other = ("and", s.Or) if isinstance(e, s.And) else ("or", s.And)
            for i in range(len(ops)):
                rest = ops[:i] + ops[i + 1:]
                yield "connective", f"drop operand {i + 1} of '{word}'", rest[0] if len(rest) == 1 else replace(e, operands=rest)
            yield "connective", f"'{word}' → '{'or' if word == 'and' else 'and'}'", other(ops, e.span)
            for i, o in enumerate(ops):
                for op_name, d, new in _expr_mutants(o):
                    yield op_name, d, replace(e, operands=ops[:i] + (new,) + ops[i + 1:])
        case s.Implies(left=left, right=right):
            for op_name, d, new in _expr_mutants(left):
                yield op_name, d, replace(e, left=new)
            for op_name, d, new in _expr_mutants(right):
                yield op_name, d, replace(e, right=new)
        case s.Call(func=f, args=args) if f.text == "holds" and len(args) > 1:
            for i, a in enumerate(args):
                yield "holds", f"drop '{a.text}' from holds(...)", replace(e, args=args[:i] + args[i + 1:])
        case s.Call() | s.NameRef() | s.BoolLit():
            pass
        case _:
            raise AssertionError(f"unhandled expression {type(e).__name__}")


def _condition_mutants(e: s.Expr) -> Iterator[Mut]:
    yield "negation", "negate the condition", s.Not(e, e.span)
    yield from _expr_mutants(e)


def _swap(seq: tuple, i: int) -> tuple:
    return seq[:i] + (seq[i + 1], seq[i]) + seq[i + 2:]


def _item_mutants(it: s.Item, items: tuple[s.Item, ...], index: int) -> Iterator[tuple[str, str, tuple[s.Item, ...]]]:
    """Every one-step mutation of item ``index``, as the whole new tuple of items."""

    def one(new: s.Item) -> tuple[s.Item, ...]:
        return items[:index] + (new,) + items[index + 1:]

    drop = items[:index] + items[index + 1:]
    match it:
        case s.Header():
            for i, f in enumerate(it.fields):
                if f.key.text == "vote_year" and isinstance(f.value, int):
                    for d in (1, -1):
                        fields = it.fields[:i] + (replace(f, value=f.value + d),) + it.fields[i + 1:]
                        yield "vote_year", f"vote_year {f.value} → {f.value + d}", one(replace(it, fields=fields))
        case s.Title():
            for i, tag in enumerate(it.tags):
                yield "tag", f"drop tag '{tag.text}' from title {it.code.text}", one(replace(it, tags=it.tags[:i] + it.tags[i + 1:]))
        case s.Define():
            for op, d, new in _expr_mutants(it.expr):
                yield op, f"define {it.name.text}: {d}", one(replace(it, expr=new))
        case s.Scope():
            for i, t in enumerate(it.titles):
                if len(it.titles) > 1:
                    yield "scope", f"drop '{t.text}' from scope {it.name.text}", one(replace(it, titles=it.titles[:i] + it.titles[i + 1:]))
                else:
                    yield "scope", f"drop scope {it.name.text} (its only title '{t.text}')", drop
        case s.Exempt():
            yield "exemption", f"drop exemption {it.name.text}", drop
            for op, d, new in _condition_mutants(it.when):
                yield op, f"exemption {it.name.text}: {d}", one(replace(it, when=new))
        case s.Venue():
            nxt = index + 1
            if nxt < len(items) and isinstance(items[nxt], s.Venue):
                yield "venue order", f"swap venues {it.code.text} and {items[nxt].code.text}", _swap(items, index)  # type: ignore[union-attr]
        case s.MaxVenues():
            yield "max_venues", f"max_venues {it.count} → {it.count + 1}", one(replace(it, count=it.count + 1))
            if it.count > 1:
                yield "max_venues", f"max_venues {it.count} → {it.count - 1}", one(replace(it, count=it.count - 1))
        case s.VenueRule():
            yield from _venue_rule_mutants(it, items, index)
        case s.ShareDecl():
            new_den = _DENOMINATORS.get(it.denominator.text)
            if new_den:
                yield "share", f"share over {it.denominator.text} → {new_den}", one(replace(it, denominator=replace(it.denominator, text=new_den)))
        case s.Quorum():
            if it.op in _STRICT:
                yield "strictness", f"quorum '{it.op}' → '{_STRICT[it.op]}'", one(replace(it, op=_STRICT[it.op]))
            yield "operator", f"quorum '{it.op}' → '{_FLIP[it.op]}'", one(replace(it, op=_FLIP[it.op]))
            for op, d, new in _expr_mutants(it.ratio):
                yield op, f"quorum ratio {d}", one(replace(it, ratio=new))
        case s.Bands():
            bands = it.bands
            for i, b in enumerate(bands):
                if len(bands) > 1:
                    yield "band", f"drop band {b.code.text} of {it.name.text}", one(replace(it, bands=bands[:i] + bands[i + 1:]))
                for op, d, new in _condition_mutants(b.when):
                    yield op, f"band {it.name.text}.{b.code.text}: {d}", one(replace(it, bands=bands[:i] + (replace(b, when=new),) + bands[i + 1:]))
                if i + 1 < len(bands):
                    c = bands[i + 1]
                    yield "band order", f"swap bands {b.code.text} and {c.code.text} of {it.name.text}", one(replace(it, bands=_swap(bands, i)))
                    if b.severity != c.severity:
                        swapped = bands[:i] + (replace(b, severity=c.severity), replace(c, severity=b.severity)) + bands[i + 2:]
                        yield "severity", f"swap the severities of {b.code.text} and {c.code.text}", one(replace(it, bands=swapped))
        case s.Combine():
            yield "two_venues", f"drop two_venues {it.outcome.text}", drop
        case s.Stage():
            yield "stage", f"drop stage {it.name.text}", drop
            if len(it.after) > 1:
                for i, a in enumerate(it.after):
                    yield "stage", f"stage {it.name.text} no longer after {a.text}", one(replace(it, after=it.after[:i] + it.after[i + 1:]))
        case (s.Document() | s.Import() | s.Levels() | s.Fact() | s.Ballot() | s.Apply() | s.Schedule() | s.Provision()
              | s.Property() | s.Acknowledge() | s.Example() | s.TallySchema()):
            pass  # not decisions (or not mutated: declarations whose change the loader rejects)
        case _:
            raise AssertionError(f"unhandled item {type(it).__name__}")


def _venue_rule_mutants(it: s.VenueRule, items: tuple[s.Item, ...], index: int) -> Iterator[tuple[str, str, tuple[s.Item, ...]]]:
    def one(new: s.Item) -> tuple[s.Item, ...]:
        return items[:index] + (new,) + items[index + 1:]

    name = it.name.text
    for i, q in enumerate(it.overrides):
        rest = it.overrides[:i] + it.overrides[i + 1:]
        yield "exception", f"{name} no longer overrides {q}", one(replace(it, overrides=rest))
        target = next((j for j, x in enumerate(items) if isinstance(x, s.VenueRule) and x.name.text == q.name and q.alias is None), None)
        if target is not None:
            other = items[target]
            assert isinstance(other, s.VenueRule)
            new_items = list(one(replace(it, overrides=rest)))
            new_items[target] = replace(other, overrides=other.overrides + (s.QualName(None, name, q.span),))
            yield "exception", f"reverse the exception: {q} overrides {name}", tuple(new_items)
    for op, d, new in _condition_mutants(it.when):
        yield op, f"venues {name}: {d}", one(replace(it, when=new))
    vis = it.items
    for i, vi in enumerate(vis):
        if len(vis) > 1:
            yield "venue item", f"venues {name}: drop item {vi.venue.text}", one(replace(it, items=vis[:i] + vis[i + 1:]))
        if vi.kind != "always":
            yield "venue item", f"venues {name}: {vi.venue.text} {vi.kind} → always", one(replace(it, items=vis[:i] + (replace(vi, kind="always", when=None),) + vis[i + 1:]))
        if vi.kind == "when" and vi.when is not None:
            yield "venue item", f"venues {name}: {vi.venue.text} when … → otherwise", one(replace(it, items=vis[:i] + (replace(vi, kind="otherwise", when=None),) + vis[i + 1:]))
            for op, d, new in _condition_mutants(vi.when):
                yield op, f"venues {name}, item {vi.venue.text}: {d}", one(replace(it, items=vis[:i] + (replace(vi, when=new),) + vis[i + 1:]))
        if i + 1 < len(vis):
            yield "venue item", f"venues {name}: swap items {vi.venue.text} and {vis[i + 1].venue.text}", one(replace(it, items=_swap(vis, i)))


def mutants(name: str, text: str) -> list[Mutant]:
    """Every mutant of one policy file (its text), each printed in canonical layout."""
    pf = parse(text, name)
    out: list[Mutant] = []
    seen: set[str] = {format_file(pf)}
    for index, it in enumerate(pf.items):
        for op, desc, new_items in _item_mutants(it, pf.items, index):
            new_text = format_file(dataclasses.replace(pf, items=new_items))
            if new_text in seen:
                continue  # the same text as the original or as an earlier mutant
            seen.add(new_text)
            out.append(Mutant(f"{name}#{len(out) + 1}", name, it.span.line, op, desc, new_text))
    return out


# ---- equivalence by Z3 ---------------------------------------------------------------------------------


def _differences(a: ir.Policy, b: ir.Policy, ctx: z3.Context) -> tuple[list[z3.BoolRef], z3.BoolRef, object]:
    """Constraints (both policies' encodings over shared inputs) and the term 'they decide differently'
    (:func:`checker.pairwise.differs`, and every band set named alike deciding a venue's tally differently)."""
    ea, eb = Encoder(a, None, Domain(), ctx), Encoder(b, None, Domain(), ctx)
    r = ea.roster()
    rb = r if a.vote_year == b.vote_year else replace(r, year=z3.IntVal(b.vote_year, ctx) if b.vote_year is not None else r.year)
    pa, pb = ea.plan(r, "A|"), eb.plan(rb, "B|")
    venues = tuple(dict.fromkeys((*a.venue_codes(), *b.venue_codes()))) or ("_",)
    # one tally per venue that both versions read (each counts over its own base there)
    ta = {v: ea.tally(f"tally|{v}", a.base_at(v), b.base_at(v)) for v in venues}
    tb = {v: replace(t, prefix=f"B|{t.prefix}") for v, t in ta.items()}
    da = decision_terms(ea, pa, {v: ta[v] for v in a.venue_codes()})
    db = decision_terms(eb, pb, {v: tb[v] for v in b.venue_codes()})
    diff = [differs(da, db)]
    sets_a = {bs.name: bs for bs in a.band_sets}
    sets_b = {bs.name: bs for bs in b.band_sets}
    for name in sorted(set(sets_a) | set(sets_b)):
        for v in venues:
            diff.append(options_differ(band_options(ea, sets_a.get(name), ta[v], f"set|A|{name}"),
                                       band_options(eb, sets_b.get(name), tb[v], f"set|B|{name}")))
    cons = list(ea.constraints) + list(eb.constraints)
    cons += [d.formula for d in ea.definitions] + [d.formula for d in eb.definitions]
    return cons, z3.Or(*diff), (r, ta)


def equivalent(a: ir.Policy, b: ir.Policy, timeout_ms: int = 20_000) -> tuple[bool | None, str]:
    """Whether ``a`` and ``b`` decide alike for every input (None: unknown), and a witness if not.

    A witness is replayed through the evaluator: when the two compiled evaluators decide it alike,
    the encoding and the evaluator disagree — reported as such (``!`` at the start of the text)."""
    ctx = z3.Context()
    cons, difference, terms = _differences(a, b, ctx)
    verdict = verify_equivalent(cons, difference, timeout_ms)
    if verdict.holds is not None and verdict.holds:
        return True, ""
    if verdict.model is None:
        return None, f"unknown: {verdict.reason}"
    text, replays = _witness(a, b, verdict.model, terms)
    return False, text if replays else "! the evaluators decide this input alike (encoding and evaluator disagree)\n" + text


def _witness(a: ir.Policy, b: ir.Policy, m: z3.ModelRef, terms: object) -> tuple[str, bool]:
    r, ta = terms  # type: ignore[misc]
    year = m.evaluate(r.year, model_completion=True).as_long()
    row = roster_row(m, r, a, "mx1")
    rows = [tally_row(m, t, "mx1", v) for v, t in ta.items() if z3.is_true(m.evaluate(t.given, model_completion=True))]
    inp = FuzzInput(row.cadre(), tuple(t.tally() for t in rows))
    lines = [f"roster: {', '.join(f'{k}={v}' for k, v in row.cells().items() if v and k not in ('full_name', 'unit'))} (vote year {year})"]
    for t in rows:
        lines.append(f"tally: {t.venue} issued={t.issued} collected={t.collected} low={t.low}"
                     + (f" convened={t.convened} present={t.present}" if t.convened is not None else ""))
    views = [decision_view(pol, year, inp) for pol in (a, b)]
    for label, view in zip(("original", "mutant"), views):
        lines.append(f"{label}: {view.render()}")
    return "\n".join(lines), views[0] != views[1]


def decision_view(pol: ir.Policy, year: int, inp: FuzzInput) -> DecisionView:
    """What the compiled evaluator of ``pol`` decides for ``inp`` (as the fuzzer compares it)."""
    ev = Evaluator(pol, year)
    d = ev.decide(inp.cadre, {v: t for v, t in inp.at.items() if v in pol.venue_codes()})
    return evaluator_view(d, inp, compiled_sets(pol))


# ---- kills -------------------------------------------------------------------------------------------------


def _kills(name: str, pol: ir.Policy, timeout_ms: int) -> list[Kill]:
    out = []
    for res in Checker(pol, timeout_ms).run().properties:
        match res.status:
            case "refuted" | "stale" | "internal_error":
                out.append(Kill(res.status, name, res.id))
            case "proved" | "acknowledged" | "not_applicable" | "unknown":
                pass
            case _:
                raise AssertionError(res.status)
    if pol.examples:
        ev = Evaluator(pol)
        for ex in pol.examples:
            result = run_example(ev, ex)
            if not result.passed:
                out.append(Kill("example", name, f"{ex.name}: {'; '.join(result.failures)}"))
    return out


@dataclass(frozen=True)
class Bundle:
    """Policy files by key (their path relative to a common folder): texts, the importers of each,
    the key of each resolved path, and the originals once :func:`load_originals` has loaded them."""

    texts: dict[str, str]
    importers: dict[str, list[str]]
    keys: dict[Path, str]
    originals: dict[str, ir.Policy] = dataclasses.field(default_factory=dict)

    @staticmethod
    def of(paths: list[Path]) -> Bundle:
        """The files ``paths`` and everything they import, keyed by their path relative to a common folder."""
        found: dict[Path, str] = {}
        todo = [p.resolve() for p in paths]
        while todo:
            p = todo.pop()
            if p in found:
                continue
            found[p] = p.read_text(encoding="utf-8-sig")
            for it in parse(found[p], p.name).items:
                if isinstance(it, s.Import):
                    todo.append((p.parent / it.path.value).resolve())
        root = Path(os.path.commonpath([str(p.parent) for p in found]))
        key = {p: p.relative_to(root).as_posix() for p in found}
        texts = {key[p]: text for p, text in found.items()}
        importers: dict[str, list[str]] = {n: [] for n in texts}
        for p, text in found.items():
            for it in parse(text, p.name).items:
                if isinstance(it, s.Import):
                    target = key.get((p.parent / it.path.value).resolve())
                    if target is not None:
                        importers[target].append(key[p])
        return Bundle(texts, importers, {p: key[p] for p in found})

    def affected(self, name: str) -> list[str]:
        """``name`` and every file that imports it, directly or not."""
        out, todo = [], [name]
        while todo:
            n = todo.pop(0)
            if n not in out:
                out.append(n)
                todo.extend(self.importers.get(n, []))
        return out

    def append(self, folder: Path) -> None:
        """Append ``folder/<file name>.append`` to each file of the bundle that has one."""
        for n in self.texts:
            extra = folder / (Path(n).name + ".append")
            if extra.is_file():
                self.texts[n] = self.texts[n].rstrip("\n") + "\n\n" + extra.read_text(encoding="utf-8")

    def write(self, folder: Path, changed: dict[str, str] | None = None) -> None:
        for n, text in self.texts.items():
            target = folder / n
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text((changed or {}).get(n, text), encoding="utf-8")


def judge(bundle: Bundle, m: Mutant, timeout_ms: int = 10_000) -> Verdict:
    """The verdict on one mutant (see the module docstring)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinnhiem-mutant-") as tmp:
        folder = Path(tmp)
        bundle.write(folder, {m.file: m.text})
        kills: list[Kill] = []
        try:
            mine = load_policy(folder / m.file)
        except PolicyError as err:
            # a worked example that names what the mutant removed no longer type-checks: the policy
            # without its examples is the mutant, and its examples are what catch it
            d = err.diagnostics[0]
            without = _without_examples(m.text, m.file)
            if d.code != "E307" or without is None:
                return Verdict(m, "stillborn", (Kill("error", m.file, f"{d.code}: {d.message}"),), seconds=time.monotonic() - start)
            (folder / m.file).write_text(without, encoding="utf-8")
            try:
                mine = load_policy(folder / m.file)
            except PolicyError as err2:
                d2 = err2.diagnostics[0]
                return Verdict(m, "stillborn", (Kill("error", m.file, f"{d2.code}: {d2.message}"),), seconds=time.monotonic() - start)
            kills.append(Kill("example", m.file, f"{d.code}: {d.message} (line {d.span.line})"))
        loaded: dict[str, ir.Policy] = {m.file: mine}
        for n in bundle.affected(m.file)[1:]:
            try:
                loaded[n] = load_policy(folder / n)
            except PolicyError as err:
                d = err.diagnostics[0]
                kills.append(Kill("error", n, f"{d.code}: {d.message}"))
        witness = ""
        same = not any(k.kind == "error" for k in kills)
        for n, pol in loaded.items():
            if not same:
                break
            eq, witness = equivalent(bundle.originals[n], pol, timeout_ms)
            same = eq is True
            if eq is None:
                witness = f"{n}: equivalence unknown ({witness})"
            elif not eq:
                witness = f"{n}:\n{witness}"
        if same:
            return Verdict(m, "equivalent", seconds=time.monotonic() - start)
        for n, pol in loaded.items():
            kills += _kills(n, pol, timeout_ms)
    return Verdict(m, "killed" if kills else "survived", tuple(kills), witness, time.monotonic() - start)


def _without_examples(text: str, name: str) -> str | None:
    pf = parse(text, name)
    items = tuple(it for it in pf.items if not isinstance(it, s.Example))
    return format_file(dataclasses.replace(pf, items=items)) if len(items) < len(pf.items) else None


def load_originals(bundle: Bundle) -> None:
    """Load the unmutated bundle; it must check clean (else the score means nothing)."""
    with tempfile.TemporaryDirectory(prefix="tinnhiem-bundle-") as tmp:
        bundle.write(Path(tmp))
        for n in bundle.texts:
            pol = load_policy(Path(tmp) / n)
            bad = _kills(n, pol, 10_000)
            if bad:
                raise ValueError(f"{n} does not check clean before mutation: {bad[0].kind} {bad[0].detail}")
            bundle.originals[n] = pol


def score(verdicts: list[Verdict]) -> tuple[int, int, float]:
    """(killed, non-equivalent, killed / non-equivalent)."""
    counted = [v for v in verdicts if v.status in ("killed", "survived")]
    killed = sum(v.status == "killed" for v in counted)
    return killed, len(counted), (killed / len(counted) if counted else 1.0)


def sample(ms: list[Mutant], n: int) -> list[Mutant]:
    """A deterministic spread of ``n`` mutants: round-robin over the operators, in file order."""
    by_op: dict[str, list[Mutant]] = {}
    for m in ms:
        by_op.setdefault(m.operator, []).append(m)
    out: list[Mutant] = []
    while len(out) < n and any(by_op.values()):
        for op in sorted(by_op):
            if by_op[op] and len(out) < n:
                out.append(by_op[op].pop(0))
    return out
