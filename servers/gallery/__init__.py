"""The encrypted gallery server: stores and computes on CKKS ciphertexts, holds no secret key.

``mien serve gallery`` runs it as its own process; clients reach it with ``tools.encrypted.RemoteGalleryService``
(``mien gallery --encrypted --server URL``). Routes in ``api_router``, schemas in ``protocol``, logic in
``serving`` (a thin layer over ``tools.encrypted.GalleryEngine``).
"""
