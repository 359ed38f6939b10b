"""Expression spotting: onset, apex and offset of macro- and micro-expressions in videos of any length.

``spot_video`` is the training-free spotter (mesh region motion against a sliding baseline), streamed so memory
stays flat in the video's length; ``tools.spotting.fedn`` is the trainable FEDN-style ``SpottingNet`` for users
who hold labelled data; ``tools.spotting.physio`` reads synchronized physiological signals (CSV, EDF).
"""

from tools.spotting.spot import SpotOptions, spot_video
from tools.spotting.types import ExpressionInterval, IntervalKind, SpottingResult, TrackSpan

__all__ = ["ExpressionInterval", "IntervalKind", "SpotOptions", "SpottingResult", "TrackSpan", "spot_video"]
