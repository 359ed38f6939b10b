"""Generated spotting clips (real photos, mesh-warped expressions at known frames) and their evaluation."""
