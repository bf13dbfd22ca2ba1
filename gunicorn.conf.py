"""gunicorn settings for production; every value can be overridden by the environment."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Requests are short (the long work runs on RQ workers), so sync workers suffice. A fixed
# default, not one from the host's CPU count: each worker process holds up to
# DB_POOL_SIZE + DB_MAX_OVERFLOW (2 + 3) PostgreSQL connections, so 4 per machine keeps two web
# machines and four RQ workers under a max_connections of 100 (README, "Connections").
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then; jitter avoids all at once
max_requests_jitter = 200
accesslog = None  # the app logs one JSON line per request itself
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
