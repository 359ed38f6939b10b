"""Evaluations of pose augmentation (defrontalization): verification similarity against yaw, contact sheets."""
