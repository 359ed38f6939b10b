"""The web page: upload a file, ask about it, watch the answer stream with its evidence (``mien serve web``)."""
