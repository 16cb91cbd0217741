"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py app:app`."""

from praatbox import create_app

app = create_app()
