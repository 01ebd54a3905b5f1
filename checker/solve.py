"""The solver driver: proved / refuted / unknown, with cores, counterexamples and replays.

Takes a :class:`dsl.ir.Policy` (and a per-property ``timeout_ms``); produces a
:class:`PolicyReport` with one :class:`PropertyResult` per entry of
:func:`checker.properties.catalog`. For each obligation it asserts the constraints, each rule's
definition under its own tracking literal and the goal, then:

- unsat where a counterexample was sought ⇒ the obligation holds, and the unsat core over the
  tracking literals names the rules the proof rests on ("proved from P5, P6");
- sat ⇒ the model is made readable (soft preferences tried in order: fewer titles, whole ballots,
  no quorum columns…), decoded into CSV rows (:mod:`checker.decode`) — a band counterexample gets a
  roster row planned at a venue where the band set applies, when there is one — and replayed
  through the compiled evaluator (:mod:`checker.replay`); a replay that does not exhibit the claim
  is an internal error, never a silent pass;
- unknown (timeout, resource limit) ⇒ unknown, with Z3's reason.

Acknowledged findings (``Policy.acknowledgements``) turn a refutation into ⚠ ``acknowledged``; an
acknowledgement whose property holds (or does not apply) is ``stale``, a failure. Timings and the
solver's statistics are kept per property.

Cost: the policy is encoded once per check (:meth:`checker.properties.Context.planned`). A witness
that a rule can fire (``no_dead_rule``: one per rule) is first sought on one untracked solver per
encoding, asserted once, each goal in a push/pop scope; a rule found dead, and every other
obligation, is solved on a solver of its own as described above, so what a report shows does not
depend on the order of the checks. Cores are read by the literals' AST ids, never their text.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Literal

import z3

from checker import properties as P
from checker.decode import RosterRow, TallyRow, roster_csv, roster_row, tallies_csv, tally_row, year_of
from checker.encode import EPOCH, Domain, RosterVars, RuleRef, TallyVars, all_facts, band_ref, rule_ref
from checker.interrupt import checked
from checker.replay import Replay, replay
from dsl import ir
from dsl.evaluator import Evaluator

Status = Literal["proved", "refuted", "acknowledged", "stale", "unknown", "not_applicable", "internal_error"]
Outcome = Literal["holds", "violated", "unknown", "internal_error"]

#: Symbols of the statuses in the text report.
SYMBOLS: dict[str, str] = {"proved": "✓", "refuted": "✗", "acknowledged": "⚠", "stale": "✗", "unknown": "?",
                           "not_applicable": "–", "internal_error": "!"}
_STAT_KEYS = ("conflicts", "decisions", "propagations", "arith conflicts", "mk clause", "rlimit count")


@dataclass(frozen=True)
class Counterexample:
    roster: tuple[RosterRow, ...]
    tallies: tuple[TallyRow, ...]
    year: int | None
    replay: Replay
    note: str = ""

    @property
    def roster_csv(self) -> str:
        return roster_csv(self.roster) if self.roster else ""

    def command(self, policy_path: str) -> tuple[str, ...]:
        """The command line that replays this counterexample through the CLI, with its rows saved as
        ``roster.csv`` (and ``tallies.csv``); empty when there is no roster row to plan."""
        if not self.roster:
            return ()
        tallies = [t for t in self.tallies if t.venue]
        cmd = ("tinnhiem", "evaluate" if tallies else "plan", "--policy", policy_path, "--roster", "roster.csv")
        cmd += ("--tallies", "tallies.csv") if tallies else ()
        return cmd + (("--year", str(self.year)) if self.year is not None else ())

    @property
    def tallies_csv(self) -> str:
        return tallies_csv(self.tallies) if self.tallies else ""


@dataclass(frozen=True)
class ObligationResult:
    obligation: P.Obligation
    outcome: Outcome
    message: str
    core: tuple[RuleRef, ...] = ()
    counterexample: Counterexample | None = None
    schedule: tuple[tuple[str, str, str], ...] = ()  # a dated schedule (witness of feasibility)
    involved: tuple[RuleRef, ...] = ()  # the rules that fired in the replayed counterexample
    seconds: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PropertyResult:
    check: P.PropertyCheck
    status: Status
    message: str
    results: tuple[ObligationResult, ...] = ()
    acknowledgement: ir.Acknowledgement | None = None
    seconds: float = 0.0

    @property
    def id(self) -> str:
        return self.check.id

    @property
    def core(self) -> tuple[RuleRef, ...]:
        """The rules the proof (or the unsat refutation) rests on, deduplicated, in source order."""
        refs = {r.key: r for res in self.results for r in res.core}
        return tuple(sorted(refs.values(), key=lambda r: (r.span.file, r.span.line, r.key)))

    @property
    def findings(self) -> tuple[ObligationResult, ...]:
        return tuple(r for r in self.results if r.outcome in ("violated", "internal_error"))

    @property
    def stats(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for r in self.results:
            for k, v in r.stats.items():
                total[k] = total.get(k, 0) + v
        return total


@dataclass(frozen=True)
class PolicyReport:
    policy: ir.Policy
    properties: tuple[PropertyResult, ...]
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return run_exit_code([self])


def run_exit_code(reports: list[PolicyReport] | tuple[PolicyReport, ...]) -> int:
    """3 if a replay disagreed; else 1 if a property is refuted or an acknowledgement stale; else 3 if
    the solver answered unknown; else 0 (acknowledged findings allowed)."""
    statuses = {p.status for r in reports for p in r.properties}
    if "internal_error" in statuses:
        return 3
    if statuses & {"refuted", "stale"}:
        return 1
    if "unknown" in statuses:
        return 3
    return 0


class _Deadline:
    def __init__(self, timeout_ms: int) -> None:
        self.end = time.monotonic() + timeout_ms / 1000

    def remaining_ms(self) -> int:
        return max(0, int((self.end - time.monotonic()) * 1000))


class _Solver:
    """A solver with an :class:`checker.properties.Encoding` asserted: its constraints and each rule's
    definition, under the rule's tracking literal when ``tracked`` (every check then assumes all the
    literals, so that an unsat core names rules). An untracked solver asserts the definitions as
    they are: it serves the witnesses of one check, one after the other, each in a scope of its own
    (:class:`_Session`), and never answers for a core."""

    def __init__(self, encoding: P.Encoding, ctx: z3.Context, tracked: bool = True) -> None:
        self.solver = z3.Solver(ctx=ctx)
        self.solver.set("core.minimize", True)
        self.solver.add(*encoding.constraints)
        self.refs: dict[int, RuleRef] = {}  # by the literal's AST id: printing a literal costs more than the check
        literals: list[z3.BoolRef] = []
        for d in encoding.definitions:
            if tracked:
                self.solver.add(z3.Implies(d.literal, d.formula))
                self.refs[d.literal.get_id()] = d.ref
                literals.append(d.literal)
            else:
                self.solver.add(d.formula)
        # the tracking literals as the C array a check takes, built once (z3's check() casts each
        # assumption in Python, which costs more than the check itself once there are many rules)
        self._asts = [lit.as_ast() for lit in literals]
        self._assumptions = (z3.Ast * len(self._asts))(*self._asts)
        self.busy = False  # a session is open on it

    def check(self, extra: tuple[z3.BoolRef, ...]) -> z3.CheckSatResult:
        """Check under every tracking literal (and the ``extra`` assumptions)."""
        arr = self._assumptions
        if extra:
            asts = self._asts + [z3.BoolSort(self.solver.ctx).cast(e).as_ast() for e in extra]
            arr = (z3.Ast * len(asts))(*asts)
        ctx = self.solver.ctx
        return checked(self.solver, lambda: z3.CheckSatResult(
            z3.Z3_solver_check_assumptions(ctx.ref(), self.solver.solver, len(arr), arr)))


class _Session:
    """One problem on a solver. ``scoped``: the solver is shared, and ``with`` opens a scope with the
    goal asserted and closes it (with every soft condition kept by :meth:`prefer`) on leaving; else
    the solver is the problem's own and the goal is asserted at its base level."""

    def __init__(self, host: _Solver, problem: P.Problem, deadline: _Deadline, scoped: bool) -> None:
        self.host = host
        self.solver = host.solver
        self.deadline = deadline
        self.goal = problem.goal
        self.scoped = scoped
        self.calls = 0
        self._base: dict[str, float] = {}

    def __enter__(self) -> _Session:
        self.host.busy = True
        self._base = self._counters()
        if self.scoped:
            self.solver.push()
        self.solver.add(self.goal)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.scoped:
            self.solver.pop()
        self.host.busy = False

    def check(self, *extra: z3.BoolRef) -> z3.CheckSatResult:
        ms = self.deadline.remaining_ms()
        if ms <= 0:
            return z3.unknown
        self.solver.set("timeout", ms)
        self.calls += 1
        return self.host.check(extra)

    def core(self) -> tuple[RuleRef, ...]:
        known = self.host.refs
        refs = [known[lit.get_id()] for lit in self.solver.unsat_core() if lit.get_id() in known]
        return tuple(sorted({r.key: r for r in refs}.values(), key=lambda r: (r.span.file, r.span.line, r.key)))

    def prefer(self, model: z3.ModelRef, conditions: list[z3.BoolRef]) -> z3.ModelRef:
        """Keep each soft condition that leaves the problem satisfiable; return the final model."""
        for c in conditions:
            if self.deadline.remaining_ms() <= 0:
                break
            if z3.is_true(model.evaluate(c, model_completion=True)):
                self.solver.add(c)
                continue
            if self.check(c) == z3.sat:
                model = self.solver.model()
                self.solver.add(c)
        return model

    def _counters(self) -> dict[str, float]:
        st = self.solver.statistics()
        return {k: float(st.get_key_value(k)) for k in st.keys() if k in _STAT_KEYS}  # noqa: SIM118 (a z3 Statistics object)

    def stats(self) -> dict[str, float]:
        """The solver's counters for this problem alone (a shared solver's totals less those at the start)."""
        out: dict[str, float] = {"solver_calls": self.calls}
        for k, v in self._counters().items():
            out[k] = v - self._base.get(k, 0.0)
        return out


def _roster_prefs(r: RosterVars, model: z3.ModelRef, policy: ir.Policy) -> list[z3.BoolRef]:
    """Soft conditions for a readable roster row: fewer titles, false flags, a plausible year."""
    types = {f.name: f.type for f in all_facts(policy)}
    prefs: list[z3.BoolRef] = []
    for t in r.titles.values():
        if z3.is_true(model.evaluate(t, model_completion=True)):
            prefs.append(z3.Not(t))
    for name, v in r.facts.items():
        if name in r.given:
            g = r.given[name]
            prefs.append(g)
            prefs.append(v == r.year - 3 if types.get(name) == "year" else v == 0)
        else:
            prefs.append(z3.Not(v))  # type: ignore[arg-type]
    prefs.append(r.level == 0)
    if policy.vote_year is not None and not z3.is_int_value(r.year):
        prefs.insert(0, r.year == policy.vote_year)  # proved for every year: show the header's when it will do
    return prefs


def _tally_prefs(t: TallyVars) -> list[z3.BoolRef]:
    return [t.given, t.issued == t.collected, t.high + t.confidence + t.low == t.collected, z3.Not(t.quorum_given),
            t.collected <= 30, t.convened <= 60]


def _decode_roster(model: z3.ModelRef, r: RosterVars, policy: ir.Policy, n: int) -> tuple[RosterRow, ...]:
    row = roster_row(model, r, policy, "cx1")
    return tuple(RosterRow(f"cx{i + 1}", row.level, row.titles, row.facts, f"Phản ví dụ cx{i + 1}") for i in range(n))


def _fired(policy: ir.Policy, cx: Counterexample) -> tuple[RuleRef, ...]:
    """The declarations behind the steps of the replayed decisions (scope, exemptions, venue rules, cut, bands)."""
    decls: dict[tuple[str, str], RuleRef] = {}
    for s in policy.scope:
        decls[("scope", s.name)] = rule_ref("scope", s)
    for x in policy.exemptions:
        decls[("exemption", x.name)] = rule_ref("exemption", x)
    for vr in policy.venue_rules:
        decls[("venue_rule", vr.name)] = decls[("overridden", vr.name)] = rule_ref("venue_rule", vr)
    if policy.max_venues is not None:
        decls[("truncated", "max_venues")] = rule_ref("max_venues", policy.max_venues, "max_venues")
    out: dict[str, RuleRef] = {}
    for d in cx.replay.decisions:
        for step in d.trace:
            ref = decls.get((step.kind, step.rule))
            if ref is not None:
                out.setdefault(ref.key, ref)
        for r in d.results:
            bs = policy.band_set_at(r.venue)
            if bs is not None and r.band is not None:
                ref = band_ref(bs, bs.band(r.band))
                out.setdefault(ref.key, ref)
    return tuple(out.values())


def _date(n: int) -> str:
    return (EPOCH + _dt.timedelta(days=n)).isoformat()


class Checker:
    """Checks the properties of one policy."""

    def __init__(self, policy: ir.Policy, timeout_ms: int = 10000, year: int | None = None, domain: Domain | None = None) -> None:
        self.policy = policy
        self.timeout_ms = timeout_ms
        self.year = year
        # by default every vote year --year accepts, whatever the policy's header says (a property
        # proved for 2023 must hold for a run with --year 2024)
        self.domain = domain if domain is not None else Domain(any_year=True)
        self._shared: dict[P.Encoding, _Solver] = {}  # the untracked solver of each encoding, for witnesses
        self._evaluators: dict[int | None, Evaluator] = {}  # by vote year: compiling the policy is O(its size)

    def run(self) -> PolicyReport:
        start = time.monotonic()
        self._shared = {}
        self._evaluators = {}
        checks = P.catalog(self.policy, self.year, self.domain)
        acks = {a.target: a for a in self.policy.acknowledgements}
        results = tuple(self.check_property(c, acks.get(c.id)) for c in checks)
        return PolicyReport(self.policy, results, time.monotonic() - start)

    def check_property(self, check: P.PropertyCheck, ack: ir.Acknowledgement | None) -> PropertyResult:
        start = time.monotonic()
        if check.not_applicable is not None:
            if ack is not None:
                return PropertyResult(check, "stale", f"acknowledged, but the property does not apply: {check.not_applicable}", (), ack)
            return PropertyResult(check, "not_applicable", check.not_applicable)
        deadline = _Deadline(self.timeout_ms)
        results = tuple(self.solve(ob, deadline) for ob in check.obligations)
        seconds = time.monotonic() - start
        outcomes = [r.outcome for r in results]
        if "internal_error" in outcomes:
            bad = next(r for r in results if r.outcome == "internal_error")
            return PropertyResult(check, "internal_error", bad.message, results, ack, seconds)
        if "violated" in outcomes:
            n = outcomes.count("violated")
            what = "; ".join(r.message for r in results if r.outcome == "violated")
            if ack is not None:
                return PropertyResult(check, "acknowledged", f"{n} case{'s' if n > 1 else ''}: {what}", results, ack, seconds)
            return PropertyResult(check, "refuted", what, results, ack, seconds)
        if "unknown" in outcomes:
            what = "; ".join(f"{r.obligation.subject}: {r.message}" for r in results if r.outcome == "unknown")
            return PropertyResult(check, "unknown", what, results, ack, seconds)
        if ack is not None:
            return PropertyResult(check, "stale", "the acknowledged finding is stale: the property now holds", results, ack, seconds)
        n = len(results)
        return PropertyResult(check, "proved", f"proved ({n} obligation{'s' if n > 1 else ''})", results, ack, seconds)

    # ---- one obligation
    def solve(self, ob: P.Obligation, deadline: _Deadline) -> ObligationResult:
        start = time.monotonic()
        match ob.mode:
            case "static":
                holds = bool(ob.static_holds)
                claim = ob.claim
                if isinstance(claim, P.DeclaredLimit):
                    verb = "does not exceed" if holds else "exceeds"
                    msg = f"max_venues {claim.own} {verb} {claim.source}'s {claim.limit} (decided on the declarations)"
                else:
                    msg = ob.subject
                return ObligationResult(ob, "holds" if holds else "violated", msg, ob.rules, seconds=time.monotonic() - start)
            case "refute" | "witness":
                pass
            case _:
                raise AssertionError(ob.mode)
        assert ob.problem is not None
        # A witness that a rule can fire is sought on the solver shared by its encoding (asserted once
        # per check, not once per rule: no_dead_rule has one obligation per rule), and its model never
        # reaches a report. Whatever a report shows — cores, counterexamples, dead rules, a dated
        # schedule — comes from a solver of the obligation's own, as before: it does not depend on
        # what was checked before it.
        if ob.mode == "witness" and not ob.schedule:
            with self._session(ob.problem, deadline, shared=True) as sess:
                answer = sess.check()
                if answer != z3.unsat:
                    return self._solve(ob, sess, answer, start)
        with self._session(ob.problem, deadline, shared=False) as sess:
            return self._solve(ob, sess, sess.check(), start)

    def _session(self, problem: P.Problem, deadline: _Deadline, shared: bool) -> _Session:
        """A session on the solver shared by the problem's encoding, or on a new solver of its own."""
        if not shared:
            return _Session(_Solver(problem.encoding, problem.goal.ctx), problem, deadline, scoped=False)
        solver = self._shared.get(problem.encoding)
        if solver is None or solver.busy:
            solver = _Solver(problem.encoding, problem.goal.ctx, tracked=False)
            self._shared.setdefault(problem.encoding, solver)
        return _Session(solver, problem, deadline, scoped=True)

    def _solve(self, ob: P.Obligation, sess: _Session, answer: z3.CheckSatResult, start: float) -> ObligationResult:
        deadline = sess.deadline

        def elapsed() -> float:
            return time.monotonic() - start

        if answer == z3.unknown:
            reason = sess.solver.reason_unknown() or "unknown"
            if deadline.remaining_ms() <= 0 or "timeout" in reason or "canceled" in reason:
                reason = f"timeout: the property's budget of {self.timeout_ms} ms is spent"
            return ObligationResult(ob, "unknown", reason, seconds=elapsed(), stats=sess.stats())
        sat = answer == z3.sat
        violated = sat if ob.mode == "refute" else not sat
        if not sat:
            core = sess.core()
            if violated:
                msg = self._refuted_by_core(ob, core)
            else:
                msg = f"{ob.subject}: no counterexample"
            return ObligationResult(ob, "violated" if violated else "holds", msg, core, seconds=elapsed(), stats=sess.stats())
        # satisfiable: a counterexample (refute) or a witness (witness mode)
        if ob.schedule:
            model = sess.solver.model()
            dated = tuple((n, _date(model.evaluate(s, model_completion=True).as_long()), _date(model.evaluate(e, model_completion=True).as_long()))
                          for n, s, e in ob.schedule)
            return ObligationResult(ob, "holds", "the phases can be dated: " + ", ".join(f"{n} {a}…{b}" for n, a, b in dated),
                                    schedule=dated, seconds=elapsed(), stats=sess.stats())
        cx = self._counterexample(ob, sess, shrink=violated)
        if not cx.replay.exhibits:
            what = "counterexample" if violated else "witness"
            msg = (f"internal error: the evaluator does not exhibit the {what} for {ob.subject} "
                   f"(it shows: {cx.replay.shows}); the Z3 encoding and the evaluator disagree")
            return ObligationResult(ob, "internal_error", msg, counterexample=cx, seconds=elapsed(), stats=sess.stats())
        if violated:
            return ObligationResult(ob, "violated", f"{ob.subject}: {cx.replay.shows}", counterexample=cx,
                                    involved=_fired(self.policy, cx), seconds=elapsed(), stats=sess.stats())
        return ObligationResult(ob, "holds", f"{ob.subject}: can fire ({cx.replay.shows})", seconds=elapsed(), stats=sess.stats())

    def _refuted_by_core(self, ob: P.Obligation, core: tuple[RuleRef, ...]) -> str:
        cited = ", ".join(r.label for r in core) or "the schema alone"
        match ob.claim:
            case P.RuleFires():
                return f"{ob.subject} can never fire (because of {cited})"
            case P.ScheduleFeasible():
                return f"the phases cannot be dated: the constraints {cited} conflict (no model exists, so there is nothing to replay)"
            case _:
                return f"{ob.subject}: violated ({cited})"

    def _counterexample(self, ob: P.Obligation, sess: _Session, shrink: bool) -> Counterexample:
        model = sess.solver.model()
        if shrink:
            prefs = list(ob.problem.prefer) if ob.problem else []
            if ob.roster is not None:
                prefs += _roster_prefs(ob.roster, model, self.policy)
            for use in ob.tallies:
                prefs += _tally_prefs(use.vars)
            model = sess.prefer(model, prefs)
        year = self.year if self.year is not None else (None if self.domain.any_year else self.policy.vote_year)
        note = ""
        n_cadres = 1 + max((u.cadre for u in ob.tallies), default=0)
        roster: tuple[RosterRow, ...] = ()
        if ob.roster is not None:
            if year is None:
                year = year_of(model, ob.roster)
            roster = _decode_roster(model, ob.roster, self.policy, 1)
        tallies = []
        for use in ob.tallies:
            if use.band_set is None and not z3.is_true(model.evaluate(use.vars.given, model_completion=True)):
                continue
            tallies.append(tally_row(model, use.vars, f"cx{use.cadre + 1}", use.venue, use.band_set, use.stage))
        if ob.roster is None and ob.tallies and shrink and ob.reach:
            roster, tallies, year, note = self._reach(ob, tallies, n_cadres, year, sess.deadline)
        elif ob.roster is None and ob.tallies and any(u.venue is None for u in ob.tallies):
            note = f"band set {ob.tallies[0].band_set} is applied at no venue of this policy: the tally is replayed against its bands alone"
        if roster and ob.roster is not None:
            # keep only the tallies of venues the cadre is planned at
            planned = self._evaluator(year).plan(roster[0].cadre()).venues
            tallies = [t for t in tallies if t.band_set is not None or t.venue in planned]
        rep = replay(ob.claim, self.policy, year, roster, tuple(tallies), self._evaluator(year))
        return Counterexample(roster, tuple(tallies), year, rep, note)

    def _evaluator(self, year: int | None) -> Evaluator:
        if year not in self._evaluators:
            self._evaluators[year] = Evaluator(self.policy, year)
        return self._evaluators[year]

    def _reach(self, ob: P.Obligation, tallies: list[TallyRow], n: int, year: int | None,
               deadline: _Deadline) -> tuple[tuple[RosterRow, ...], list[TallyRow], int | None, str]:
        for reach in ob.reach:
            with self._session(reach.problem, deadline, shared=False) as sess:
                if sess.check() != z3.sat:
                    continue
                first = sess.solver.model()
                model = sess.prefer(first, list(reach.problem.prefer) + _roster_prefs(reach.roster, first, self.policy))
            if year is None:
                year = year_of(model, reach.roster)
            roster = _decode_roster(model, reach.roster, self.policy, n)
            moved = [TallyRow(t.cadre_id, reach.venue, t.issued, t.collected, t.high, t.confidence, t.low, t.convened, t.present, t.band_set,
                              t.members)
                     for t in tallies]
            return roster, moved, year, ""
        venues = ", ".join(r.venue for r in ob.reach)
        return (), tallies, year, f"no roster row is voted at {venues}: the tally is replayed at the venue without a cadre"


def check_policy(policy: ir.Policy, timeout_ms: int = 10000, year: int | None = None, domain: Domain | None = None) -> PolicyReport:
    """Check every property of ``policy``; see :class:`Checker`."""
    return Checker(policy, timeout_ms, year, domain).run()
