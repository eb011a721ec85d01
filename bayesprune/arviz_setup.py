"""ArviZ as the package uses it: every module imports ``az`` from here.

ArviZ switches some statistics to numba when numba is importable (it is: the sampler's
compiled passes need it). Its numba variance is an uncached one-pass formula
(``E[x^2] - E[x]^2``): every job would compile it (seconds) and R-hat would change in the last
digits. We keep ArviZ on its numpy code, the path its results were validated with.

ArviZ also compiles a numba ufunc for its ECDF bands while it is imported (0.7 s in every job
that imports it, uncached; the package draws no ECDF bands). So numba is hidden while ArviZ is
imported: ArviZ then takes its documented no-numba fallbacks from the start (its
``Numba.numba_flag`` reads False), and numba is put back for the package's own compiled code.
"""

import sys

_HIDDEN = object()
_numba = sys.modules.get("numba", _HIDDEN)
sys.modules["numba"] = None  # type: ignore[assignment]  # "import numba" raises ImportError
try:
    import arviz as az
finally:
    if _numba is _HIDDEN:
        del sys.modules["numba"]
    else:
        sys.modules["numba"] = _numba  # type: ignore[assignment]

az.Numba.disable_numba()

__all__ = ["az"]
