"""The claims, one module per line of work; importing this package registers them all."""

from . import approximation, catapult, dlgn, erm, foot_point, geometry, intrinsic  # noqa: F401
