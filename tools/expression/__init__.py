"""Facial expression: basic emotions, action-unit estimates, dynamics, and compound expressions."""
