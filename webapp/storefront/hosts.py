"""Premium custom domains: a request for a storefront's own host name is served as that
storefront, as if it had asked for /store/<slug>/…

A WSGI middleware (it must run before Flask matches the URL): when the Host header (without
its port) is the verified custom domain of a Premium, Active tenant's storefront (and not
one of PLATFORM_HOSTS, which always answer as the BSS), PATH_INFO is
rewritten to /store/<slug> + path. /static/ and /media/ are served as they are, and so are
paths already under this storefront's own /store/<slug>/ (the URLs url_for builds). Anything
else on that host, the BSS included, is looked up inside the storefront and is not found
there. Look-ups are cached per process for a few seconds, misses included, so an unknown Host
costs one query per TTL; the cache is bounded.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, NotFound

from webapp.extensions import db
from webapp.models import Edition, Organization, OrgStatus, Storefront
from webapp.services.domains import is_platform_host

log = logging.getLogger(__name__)

EXTENSION_KEY = "storefront_hosts"
PASS_THROUGH_PREFIXES = ("/static/", "/media/")
TTL_SECONDS = 10.0
MAX_CACHED_HOSTS = 4096


def host_of(environ: dict) -> str:
    """The request's host name: lower case, without port or trailing dot."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal, e.g. [::1]:5000
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def could_be_custom_domain(host: str) -> bool:
    """Only dotted names can be custom domains (the editor enforces it): skip the rest."""
    if "." not in host or host.startswith("["):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def premium_slug_for_host(host: str) -> str | None:
    """The slug of the Premium, Active tenant's storefront on this custom domain."""
    return db.session.scalar(
        select(Storefront.slug)
        .join(Organization, Organization.id == Storefront.organization_id)
        .where(
            Storefront.custom_domain == host,
            Storefront.domain_verified_at.is_not(None),  # ownership proven by DNS
            Organization.edition == Edition.PREMIUM,
            Organization.status == OrgStatus.ACTIVE,
        )
    )


class StorefrontHosts:
    """WSGI middleware around app.wsgi_app; see the module docstring."""

    def __init__(self, wsgi_app, app: Flask, ttl: float = TTL_SECONDS):
        self.wsgi_app = wsgi_app
        self.app = app
        self.ttl = ttl
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()
        app.extensions[EXTENSION_KEY] = self

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if not path.startswith(PASS_THROUGH_PREFIXES):
            host = host_of(environ)
            routable = could_be_custom_domain(host) and not is_platform_host(
                host, self.app.config["PLATFORM_HOSTS"]
            )
            slug = self.slug_for(host) if routable else None
            if slug is not None:
                prefix = f"/store/{slug}"
                if path != prefix and not path.startswith(prefix + "/"):
                    environ["PATH_INFO"] = prefix + (path if path.startswith("/") else "/" + path)
                environ["trbss.custom_domain"] = host
            self._not_found_inside_store(environ)
        return self.wsgi_app(environ, start_response)

    def _not_found_inside_store(self, environ) -> None:
        """A page that does not exist under /store/<slug>/ is the store's own not-found
        page (in its brand, or the neutral page), never the BSS's: so a custom domain never
        shows the platform's chrome."""
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        parts = path.split("/", 3)  # "", "store", slug, rest
        if len(parts) < 3 or parts[1] != "store" or not parts[2] or method not in ("GET", "HEAD"):
            return
        try:
            self.app.url_map.bind("localhost").match(path, method=method)
        except NotFound:
            environ["PATH_INFO"] = f"/store/{parts[2]}/not-found"
        except HTTPException:  # a redirect (trailing slash) or another method: Flask decides
            return

    def slug_for(self, host: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(host)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            # An app context of its own, popped before Flask handles the request (which then
            # pushes a fresh one): nothing of this look-up leaks into the request.
            with self.app.app_context():
                slug = premium_slug_for_host(host)
        except SQLAlchemyError:
            log.exception("custom domain look-up failed for %s", host)
            return None  # not cached: the next request tries again
        with self._lock:
            if len(self._cache) >= MAX_CACHED_HOSTS:
                self._cache.clear()
            self._cache[host] = (slug, now + self.ttl)
        return slug

    def forget(self) -> None:
        """Drop cached look-ups (this process) after a storefront's domain changed."""
        with self._lock:
            self._cache.clear()


def forget_hosts() -> None:
    """Called after a branding save: this process sees a new custom domain at once; other
    processes within their TTL."""
    hosts = current_app.extensions.get(EXTENSION_KEY)
    if hosts is not None:
        hosts.forget()
