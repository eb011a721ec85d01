"""Every figure of the workflow: one module per method and concern.

Each ``*_figure`` function takes data (pandas frames, numpy arrays) and returns a matplotlib
:class:`~matplotlib.figure.Figure`; none of them reads or writes files (results files are
read by :mod:`bayesprune.loaders`, or by a figure job, below), and :func:`.style.save_figure`
writes one atomically.

- method A: :mod:`.curves` (pruning curves), :mod:`.stage_bars` (pruned vs resampled),
  :mod:`.predictions` (predicted vs actual), :mod:`.traces` (trace and rank plots),
  :mod:`.convergence` (R-hat/ESS, parameter densities), :mod:`.classification` (ROC,
  reliability), :mod:`.loo` (PSIS-LOO model comparison), :mod:`.modes` (R-hat before and
  after alignment, chains in distinct modes);
- method B: :mod:`.method_b` (per epoch, final), :mod:`.tradeoff` (trade-off study), with
  their style in :mod:`.method_b_style`;
- shared: :mod:`.style` (colours, seaborn style, fixed-size figure, atomic PNG); names and
  order of stages, criteria and methods in :mod:`bayesprune.labels`.

A new figure is one *figure job* and one rule (:mod:`.jobs`): a function
``f(inputs, wildcards, **options) -> Figure`` in the module of its method and concern (or a
new one) that reads the job's input files and draws, and a rule in ``rules/report.smk``
whose ``params`` name it (``figure="<module>.<function>"``), its method (``method="A"`` or
``"B"``: the figure is then drawn for every dataset of that method) and its report caption
(``caption=``, rendered by ``report/figure.rst``); the rule's script is the generic
``workflow_scripts/figure.py``. :func:`.modes.modes_job` is one. The older figures keep a
script of their own that reads the files and calls a ``*_figure`` function.

Conventions shared by all method-A figures:

- *Test error* is the RMSE on the modelled (scaled) target for regression and the error rate
  (100 - accuracy, in %) for classification, so lower is better in every panel.
- *Point* = the network at the (masked) posterior mean (what the paper reports);
  *predictive* = the posterior predictive mean over the (masked) draws.
- Stages: ``full`` (the full posterior, nothing removed), ``pruned`` (the full posterior's
  draws with the pruned coordinates set to 0), ``resampled`` (MCMC of the pruned network).
  Colours: full dark grey, pruned orange, resampled blue; the unpruned deterministic network
  (trained with Adam) is a grey dash-dotted line.
"""
