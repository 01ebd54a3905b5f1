"""The band decision written in Rego (``regopy``) and in Cedar (``cedarpy``), fed the same tallies.

Takes tallies (venue, low, collected); produces each engine's band code per tally, called once per
decision or in one batch. The rules are those of the bundled policy: ``share = low / collected``;
``khong_qua_50`` when share ≤ 1/2, ``tren_50`` when 1/2 < share < 2/3, ``tu_2_3`` when share ≥ 2/3,
compared on integers (``2·low ≤ collected`` …) — the same thresholds at the three venues (the
People's Council's set, ``nq96.bands_hdnd``, differs from ``kh134`` only in its consequences). Both
engines are optional (``pip install tinnhiem[bench]``): :func:`rego` and :func:`cedar` return None
when theirs is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

REGO_MODULE = """package tinnhiem

band := "khong_qua_50" if { input.low * 2 <= input.collected }
band := "tren_50" if { input.low * 2 > input.collected; input.low * 3 < input.collected * 2 }
band := "tu_2_3" if { input.low * 3 >= input.collected * 2 }

band_of(t) := "khong_qua_50" if { t.low * 2 <= t.collected }
band_of(t) := "tren_50" if { t.low * 2 > t.collected; t.low * 3 < t.collected * 2 }
band_of(t) := "tu_2_3" if { t.low * 3 >= t.collected * 2 }

bands := [band_of(t) | some t in input.tallies]
"""

# Cedar has no "which rule": one permit per band; the policy that allowed names the band.
CEDAR_POLICIES = """permit(principal, action == Action::"band", resource) when { context.low * 2 <= context.collected };
permit(principal, action == Action::"band", resource) when { context.low * 2 > context.collected && context.low * 3 < context.collected * 2 };
permit(principal, action == Action::"band", resource) when { context.low * 3 >= context.collected * 2 };
"""
CEDAR_BANDS = {"policy0": "khong_qua_50", "policy1": "tren_50", "policy2": "tu_2_3"}

Tallies = Sequence[tuple[str, int, int]]  # (venue, low, collected)


class Engine:
    """One engine: its name, version, and the band of each tally, one call each or in one batch."""

    def __init__(self, name: str, version: str, one: Callable[[str, int, int], str | None],
                 batch: Callable[[Tallies], list[str | None]]) -> None:
        self.name, self.version, self.one, self.batch = name, version, one, batch

    def each(self, tallies: Tallies) -> list[str | None]:
        one = self.one
        return [one(v, low, col) for v, low, col in tallies]


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def rego() -> Engine | None:
    try:
        from regopy import Interpreter
    except ImportError:
        return None
    interp = Interpreter()
    interp.add_module("tinnhiem", REGO_MODULE)

    def one(venue: str, low: int, collected: int) -> str | None:
        interp.set_input({"venue": venue, "low": low, "collected": collected})
        return json.loads(str(interp.query("x = data.tinnhiem.band")))["bindings"]["x"]

    def batch(tallies: Tallies) -> list[str | None]:
        interp.set_input({"tallies": [{"venue": v, "low": low, "collected": col} for v, low, col in tallies]})
        return json.loads(str(interp.query("x = data.tinnhiem.bands")))["bindings"]["x"]

    return Engine("Rego (regopy)", _version("regopy"), one, batch)


def cedar() -> Engine | None:
    try:
        import cedarpy
    except ImportError:
        return None
    policies = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    entities = cedarpy.Entities.from_json_str("[]")

    def request(venue: str, low: int, collected: int) -> dict[str, Any]:
        return {"principal": 'Cadre::"c"', "action": 'Action::"band"', "resource": f'Venue::"{venue}"',
                "context": {"low": low, "collected": collected}}

    def band(result: Any) -> str | None:
        reasons = result.diagnostics.reasons
        return CEDAR_BANDS[reasons[0]] if reasons else None

    def one(venue: str, low: int, collected: int) -> str | None:
        return band(cedarpy.is_authorized(request(venue, low, collected), policies, entities))

    def batch(tallies: Tallies) -> list[str | None]:
        return [band(r) for r in cedarpy.is_authorized_batch([request(*t) for t in tallies], policies, entities)]

    return Engine("Cedar (cedarpy)", _version("cedarpy"), one, batch)
