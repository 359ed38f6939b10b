"""Modalities that turn one kind of evidence (text, a frame, prosody) into basic-emotion probabilities for CER.

Each returns a ``tools.expression.modality.ModalityProbabilities``; the face modalities live with the expression
model itself.
"""
