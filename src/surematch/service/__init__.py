"""The HTTP service: `create_app(model_dir, index_dir)` builds the FastAPI app of DESIGN.md."""

from surematch.service.app import create_app

__all__ = ["create_app"]
