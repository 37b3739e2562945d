"""The qpvgeo exceptions: one base class, each also a standard exception."""

from __future__ import annotations


class QpvgeoError(Exception):
    """Base class of every error qpvgeo raises on purpose."""


class DataNotFoundError(QpvgeoError, FileNotFoundError):
    """A dataset is neither in the data directory nor downloadable."""


class DownloadError(QpvgeoError, OSError):
    """A download failed or its checksum did not match."""


class ValidationError(QpvgeoError, ValueError):
    """An input (file, layer, argument) does not have the expected form."""


class ChecksumError(QpvgeoError, ValueError):
    """A data file has not the SHA-256 published or recorded for it."""


class CRSError(ValidationError):
    """A layer has no CRS, or not the one expected."""


class MissingColumnError(ValidationError):
    """A table lacks a column qpvgeo needs."""


class UnknownCodeError(ValidationError):
    """A département, QPV or equipment code is not known."""


class EmptyLayerError(ValidationError):
    """A layer holds no feature where at least one is needed."""


class NetworkError(QpvgeoError, ValueError):
    """The street network cannot answer the question asked of it."""


class QpvgeoWarning(UserWarning):
    """Something in the data was dropped, repaired or not assessed; the run goes on and says so.

    :func:`qpvgeo.pipeline.run` turns these into the notes of the run; any other
    warning (from pandas, numpy, shapely…) is left to propagate, so that a test
    suite that treats warnings as errors sees it.
    """


def plain(value: object) -> object:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists.

    For messages: ``f"got {plain(x)!r}"`` shows ``0.0``, not ``np.float64(0.0)``,
    whether ``x`` came from a user or from a numpy computation.
    """
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        if getattr(value, "size", 1) > 20:
            return _Short(value)
        return value.tolist()  # numpy scalar -> int/float/bool, array -> (nested) list
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    if not isinstance(value, str | bytes | int | float | bool | type(None)):
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a broken __repr__ is still shown by its type
            text = "\n"
        if "\n" in text or len(text) > 120:  # a frame, a long object: its kind, not its dump
            return _Short(value)
    return value


class _Short:
    """Shows a large value (a frame, an array) by its type and size in a one-line message."""

    def __init__(self, value: object) -> None:
        size = getattr(value, "shape", None)
        self.text = f"<{type(value).__name__}" + (f" of shape {tuple(size)!r}>" if size is not None else ">")

    def __repr__(self) -> str:
        return self.text
