"""An independent sample-silo generator, written from the data contract only (see README.md).

    from tests.independent_silos import generate
    counts = generate(Path("out"), persons=20000, days=365)
"""

from .generator import generate

__all__ = ["generate"]
