"""WSGI entry point for gunicorn: `gunicorn --worker-class gevent app.cli.wsgi:app`.

gunicorn's gevent worker monkey-patches the standard library before it imports this module, so
sockets, threads and redis-py wait cooperatively; psycopg2 waits in C, so psycogreen hands its
waits to gevent too. Celery workers never import this module and stay unpatched."""

from gevent import monkey
from psycogreen.gevent import patch_psycopg

from app import create_app

if monkey.is_module_patched("socket"):
    patch_psycopg()

app = create_app()
