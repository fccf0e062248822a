"""The REST API (FastAPI, ``/api/v1``) and the web dashboard it serves."""

from corridor.api.app import create_app

__all__ = ["create_app"]
