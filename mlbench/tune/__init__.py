"""Tuning: sweeps on Optuna (`mb.tune`, the function in `mlbench.tune.sweep`) and the torch TabularNet."""
