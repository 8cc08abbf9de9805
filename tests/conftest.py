"""Shared test configuration: hypothesis profiles and the gpu marker.

Profiles: ``dev`` (default: fewer examples, quick feedback) and ``ci`` (derandomized, no
deadline, more examples).  Choose with ``HYPOTHESIS_PROFILE=ci``.
"""

import os

# Many small torch ops: OpenMP threads that spin while waiting slow them down by 10-30x as soon
# as another process competes for the two cores (measured); passive waiting avoids that.  This
# must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
