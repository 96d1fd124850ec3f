"""What gunicorn and `flask --app wsgi` load."""

from backend import create_app

app = create_app()
