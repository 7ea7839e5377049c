"""numexpr's evaluate("2*a + 3*b*c"), the weft way: one pass over the arrays,
no temporaries, into an output you own (or a reduction, without the output).

    python examples/python/numexpr_style.py
"""
import numpy as np

import weft

n = 1_000_000
rng = np.random.default_rng(0)
a, b, c = rng.random(n), rng.random(n), rng.random(n)

# numexpr: out = ne.evaluate("2*a + 3*b*c")
out = np.empty(n)
weft.map("out = 2*a + 3*b*c", a=a, b=b, c=c, out=out)
np.testing.assert_allclose(out, 2 * a + 3 * b * c, rtol=1e-15)

# Several statements, temporaries stay in registers.
weft.map("t = sin(a) * exp(-b); out = t * t + sqrt(c)", a=a, b=b, c=c, out=out)
np.testing.assert_allclose(out, (np.sin(a) * np.exp(-b)) ** 2 + np.sqrt(c), rtol=1e-12)

# numexpr: ne.evaluate("sum(a * b)"): a dot product, no a*b array at all.
dot = weft.reduce_expr("sum", "a * b", a=a, b=b)
np.testing.assert_allclose(dot, a @ b, rtol=1e-12)

# Errors point at the expression.
try:
    weft.map("out = 2*a + ", a=a, out=out)
except weft.ExprError as e:
    print(e)

print("ok: map and reduce_expr match numpy")
