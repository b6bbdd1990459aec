"""gunicorn's configuration for mailer in production: ``gunicorn -c deploy/gunicorn.conf.py``, from the checkout.

Settings come from the environment as for every command (DATABASE_URL, SECRET_KEY, ...); gunicorn's
own GUNICORN_CMD_ARGS or command-line options override the values below (``--bind``, ``--workers``).
"""

import multiprocessing

from gunicorn.glogging import Logger

from mailer.access_log import mask_tokens_in

wsgi_app = "mailer:create_app()"

# Behind nginx on the same machine; set TRUSTED_PROXIES=1 so the app believes its X-Forwarded-* headers.
bind = "127.0.0.1:8000"
# Threads serve the mailroom's many short scans while a worker waits on the database; a PDF download
# or CSV export holds one thread, not a process.
workers = min(2 * multiprocessing.cpu_count() + 1, 9)
worker_class = "gthread"
threads = 4
# A CSV upload is imported within its request; larger files go through the command line.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak in a library never grows without bound.
max_requests = 2000
max_requests_jitter = 200

accesslog = "-"
errorlog = "-"
# Apache's combined format plus the time taken (ms); the path is masked below.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class TokenMaskingLogger(Logger):
    """gunicorn's logger, with the customers' address-update tokens masked in the access and error logs."""

    def setup(self, cfg):
        """Set up gunicorn's logs, then mask tokens in every line they write."""
        super().setup(cfg)
        mask_tokens_in(self.access_log)
        mask_tokens_in(self.error_log)


logger_class = TokenMaskingLogger
