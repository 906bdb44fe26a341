"""AutoML: hyper-parameter search over whole training runs (TAO's Bayesian and Hyperband, on Optuna)."""
