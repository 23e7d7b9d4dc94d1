"""Probe lava 0.10.0's rule-string parser: print the ProductSeries for a set
of strings (and the error for rejected ones), and compare with the
independent parser in model.py.
usage: bench/export/.venv/lava/bin/python probes/parse_probe.py   (log: parse_probe.out)"""
import sys
import os
LAVA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/learning/lava
sys.path.insert(0, LAVA)
from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
from lava.magma.core.learning.utils import float_to_literal
from model import parse_rule

tests = [
    "2^-2*x1*y0 - 2^-2*y1*x0",
    "(1) * (-2) * x0 * y1 +(1) * (2) * y0 * x1",
    "3*2^-5*x1*y0",
    "16*x0*y1", "-8*x0", "x0*(y1+3)", "x0*(3-y1)", "x0*(-y1+3)",
    "x0*(2*x1)", "u1*sgn(w)*2^-1", "u0*(w-64)", "x0*y0*y1",
    "y0*x0*x1", "u2*x1", "x0*2^8", "x0*2^9", "x0*2^-7", "x0*2^-8",
    "9*x0", "x0*x1*y1*y2", "2^3*x0", "4^2*x0", "x1*y1", "x0*-y1",
    "u*x1", "x0*u1*y1", "x0*sgn(x1)", "x0*(2^-2)", "x0*12", "x0*24*2^-3",
    "x0*(1)*(1)*2^-1*2^-1",
]
for s in tests:
    try:
        lr = Loihi2FLearningRule(dw=s, rng_seed=0)
        ps = lr.dw
        lava = [(p.dependency, p.s_mantissa, p.s_exp - 7,
                 [(f.state_var, f.const, f.is_sgn) for f in p.factors])
                for p in ps.products]
        out = f"OK   {lava}  decimate={lr.decimate_exponent}"
    except Exception as e:
        lava = None
        out = f"ERR  {type(e).__name__}: {e}"
    try:
        mine = [(p['dep'], p['mant'], p['exp7'] - 7,
                 [(a, b, c) for a, b, c in p['factors']])
                for p in parse_rule(s)]
    except Exception as e:
        mine = None
    agree = (mine == lava)
    print(f"{s!r:45} {out}   model_agrees={agree}")

print()
for v in [1, 2, -2, 0.5, 0.25, 0.3, 1.5, 3, 3.5, 10, -0.125, 0]:
    print(f"float_to_literal({v}) = {float_to_literal(v)!r}")
