"""MCMC for method A: the kernels (`kernel`, `sgd_epoch`), the burn-in adaptation
(`adaptation`), the random streams (`streams`), the runner (`runner`) with its trace
(`trace`) and checkpoint (`checkpoint`), and the typed sampler settings (`settings`)."""
