"""One module per area of the CLI; each defines ``register(app)``."""
