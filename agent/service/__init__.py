"""The resident Mien service: one per user and home, on a private unix socket, keeping the chat model and the
perception models loaded so that ``mien ask`` and ``mien chat`` answer warm.

``mien ask`` starts it on first use (``MIEN_SERVICE=auto``) and uses it while it runs; it stops itself after
``MIEN_SERVICE_IDLE_TIMEOUT_S`` without a request. ``mien service start|stop|status`` manage it by hand.
Layout: ``paths`` (where), ``locks`` (single instance), ``protocol`` (messages), ``serving`` (the session and
idle clock), ``app`` (routes), ``process`` (the server process), ``client`` and ``lifecycle`` (the client side).
"""
