"""ArviZ as the package uses it: every module imports ``az`` from here.

ArviZ switches some statistics to numba when numba is importable (it is: the sampler's
compiled passes need it). Its numba variance is an uncached one-pass formula
(``E[x^2] - E[x]^2``): every job would compile it (seconds) and R-hat would change in the last
digits. We keep ArviZ on its numpy code, the path its results were validated with.
"""

import arviz as az

az.Numba.disable_numba()

__all__ = ["az"]
