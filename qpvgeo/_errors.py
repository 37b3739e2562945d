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
