"""Evaluation metrics, each a plain function over typed inputs, tested on hand-made cases."""
