"""Rego and Cedar decide the bands of the bundled policy as tinnhiem does: run beside the bench.

    pip install -e '.[bench]'                 # regopy and cedarpy
    python -m tests.bench.engines_agree       # exit 0: both agree; 1: one disagrees; 2: one is not installed

Not part of the pytest suite (``dev.py test`` installs the ``[test]`` extra only, so the engines are
never there and a test of them would always be skipped). Takes the boundary tallies of the three bands
(0 low, exactly 1/2, just above it, exactly 2/3, all low); each engine, called once per tally and in one
batch, must give the band the compiled evaluator gives.
"""

from __future__ import annotations

import sys

import policy as bundled
from bench import engines
from dsl.evaluator import Tally, compile_policy
from dsl.loader import load_policy

CASES = [("cap_uy", 0, 1), ("cap_uy", 20, 40), ("noi_cong_tac", 21, 40), ("hdnd", 25, 47), ("hdnd", 6, 9), ("cap_uy", 9, 9)]
WANT = ["khong_qua_50", "khong_qua_50", "tren_50", "tren_50", "tu_2_3", "tu_2_3"]


def main() -> int:
    ev = compile_policy(load_policy(bundled.path()))
    ours = [getattr(ev.band_rule(v, Tally(v, d, d, 0, d - low, low)), "code", None) for v, low, d in CASES]
    assert ours == WANT, f"the evaluator itself decides {ours}"
    code = 0
    for name, make in (("rego", engines.rego), ("cedar", engines.cedar)):
        eng = make()
        if eng is None:
            print(f"{name}: not installed (pip install -e '.[bench]')")
            code = max(code, 2)
            continue
        each, batch = eng.each(CASES), eng.batch(CASES)
        ok = each == WANT and batch == WANT
        print(f"{name} {eng.version}: {'agrees' if ok else f'DISAGREES: one by one {each}, batch {batch}, want {WANT}'}")
        code = code if ok else 1
    return code


if __name__ == "__main__":
    sys.exit(main())
