"""Scripted evaluations of Mien's agent on inspect-ai: cases, media, the agent as solver, tasks, runs and reports.

Each suite is an inspect ``Task`` (``evals.inspect.tasks``); its samples carry a ``Case`` (``evals.inspect.spec``);
the solver is the agent itself (``evals.inspect.solver``); scorers are in ``evals.scorers``. ``mien eval`` runs
suites through ``inspect_ai.eval`` and compares runs (``evals.inspect.report``).
"""
