"""Tests of expression spotting (tools.spotting, evals.metrics.spotting)."""
