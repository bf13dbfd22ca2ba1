"""Custom domain ownership: a Premium tenant's domain routes to its storefront only after a
DNS TXT record proves the tenant controls it.

The tenant publishes `_trbss-verify.<domain>` with the token shown on the branding page; a
queued job (jobs/domains.py) asks DNS and marks the domain verified. The platform's own host
names come from configuration (PLATFORM_HOSTS), never from a request."""

from __future__ import annotations

import logging
import secrets

import dns.exception
import dns.resolver
from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Edition, Organization, OrgStatus, Storefront, utcnow

log = logging.getLogger(__name__)

TXT_PREFIX = "_trbss-verify"
DNS_TIMEOUT_SECONDS = 5.0


def queue_check(storefront: Storefront) -> bool:
    """Queue the DNS look-up of the storefront's pending domain; False if the queue is down
    (the tenant presses Check now later). Routes enqueue nothing themselves."""
    from jobs.queueing import enqueue_domain_check

    return enqueue_domain_check(storefront.id)


def platform_hosts() -> tuple[str, ...]:
    """The host names the BSS itself answers on (configuration only)."""
    return tuple(current_app.config.get("PLATFORM_HOSTS") or ())


def is_platform_host(host: str, hosts: tuple[str, ...] | None = None) -> bool:
    """True if `host` is a platform host name or a name under one."""
    host = host.lower().rstrip(".")
    hosts = platform_hosts() if hosts is None else hosts
    return any(host == h or host.endswith("." + h) for h in hosts)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def record_name(domain: str) -> str:
    """The TXT record the tenant publishes."""
    return f"{TXT_PREFIX}.{domain}"


def set_domain(storefront: Storefront, domain: str | None) -> bool:
    """Give the storefront a (new) custom domain, pending until verified; True if it changed
    (the caller then queues a check after committing)."""
    if domain == storefront.custom_domain:
        if domain and not storefront.domain_token:
            storefront.domain_token = new_token()
        return False
    storefront.custom_domain = domain
    storefront.domain_token = new_token() if domain else ""
    storefront.domain_verified_at = None
    storefront.domain_checked_at = None
    storefront.domain_check_message = ""
    return domain is not None


def _resolver() -> dns.resolver.Resolver:
    address = current_app.config.get("DNS_RESOLVER")
    if not address:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        resolver.nameservers = [host or address]
        if port:
            resolver.port = int(port)
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    resolver.timeout = DNS_TIMEOUT_SECONDS
    return resolver


def txt_values(name: str) -> list[str]:
    """The TXT strings published at `name` (empty if none); raises dns.exception.DNSException
    when DNS could not answer."""
    try:
        answer = _resolver().resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return []
    values = []
    for rdata in answer.rrset or ():
        values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    return values


def check_ownership(storefront_id: int) -> bool:
    """Look the storefront's TXT record up; mark the domain verified when it carries the token.
    Returns True when the domain is verified."""
    storefront = db.session.get(Storefront, storefront_id)
    if storefront is None or not storefront.custom_domain:
        return False
    if storefront.domain_verified_at is not None:
        return True
    domain, token = storefront.custom_domain, storefront.domain_token
    name = record_name(domain)
    try:
        found = token in txt_values(name) if token else False
        message = "" if found else f"No TXT record {name} with your token was found yet."
    except dns.exception.DNSException as exc:
        log.warning("TXT look-up of %s failed: %s", name, exc)
        found, message = False, f"DNS did not answer for {name}; try again in a few minutes."
    # The domain may have changed while DNS answered: only record the result for the same one.
    storefront = db.session.get(Storefront, storefront_id, populate_existing=True)
    if storefront.custom_domain != domain or storefront.domain_token != token:
        return False
    storefront.domain_checked_at = utcnow()
    storefront.domain_check_message = message
    if found:
        storefront.domain_verified_at = utcnow()
    db.session.commit()
    return found


def verified_host(host: str) -> bool:
    """True if `host` is the verified custom domain of a Premium, Active tenant (TLS may be
    issued for it)."""
    return (
        db.session.scalar(
            select(Storefront.id)
            .join(Organization, Organization.id == Storefront.organization_id)
            .where(
                Storefront.custom_domain == host,
                Storefront.domain_verified_at.is_not(None),
                Organization.edition == Edition.PREMIUM,
                Organization.status == OrgStatus.ACTIVE,
            )
        )
        is not None
    )
