"""Hostile input: Hypothesis tries each parser a user or a file reaches with what no one should send.

One fixed profile: the same examples on every run (derandomized, no example database written
beside the code), no per-example deadline since some examples go through a database, and few
enough examples that the whole folder takes well under a minute.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "hostile",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    print_blob=True,
    # The web examples share the test's app and client; each example checks what it stored itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("hostile")
