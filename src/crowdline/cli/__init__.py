"""The ``crowdline`` command line: it parses, calls the SDK, renders. Nothing else.

Every module here that defines ``register(app)`` adds its command group to the main app.
"""
