"""bayesprune: Bayesian pruning of neural networks.

Method A (arXiv 2501.06962): sample a BNN posterior with Langevin-gradient MCMC, prune by
signal-to-noise / signal-plus-noise / random / magnitude scores, resample the pruned network.
Method B (arXiv 2308.02451): prune while training, keeping a pruning step only when a Bayes
factor between the pruned and unpruned network supports it.

The package knows nothing about Snakemake; the workflow's scripts call it.
"""

__version__ = "0.1.0"
