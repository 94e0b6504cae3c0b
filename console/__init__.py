"""The staff review console: a Flask app served by waitress (`python -m console`)."""

from console.app import create_app

__all__ = ["create_app"]
