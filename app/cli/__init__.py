"""Process entry points: the WSGI app for gunicorn and the command-line tools."""
