"""The package version (``obskit.__version__``), importable from anywhere without the
package's ``__init__``."""

__version__ = "0.1.0"
