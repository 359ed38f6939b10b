"""Hostile-media fuzzing of Mien's media readers (``python -m evals.fuzz``; see ``evals/fuzz/run.py``)."""
