"""Evaluation of identity cloaking against recognizers (``python -m evals.bench.cloak``)."""
