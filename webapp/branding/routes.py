"""GET/POST /branding: edit the storefront's brand; POST /branding/preview: the live preview
fragment (htmx); the editor's stylesheets (CSP allows no inline styles)."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.branding import bp
from webapp.branding.forms import IMAGE_TYPES, BrandingForm, has_errors, make_form
from webapp.extensions import db
from webapp.media import uploads_dir
from webapp.models import Edition, Storefront, utcnow
from webapp.scoping import org_id
from webapp.services import audit, domains
from webapp.services.branding import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    MAX_FOOTER_LINKS,
    Brand,
    InvalidDomain,
    brand_for,
    footer_links_of,
    normalise_colour,
    parse_custom_domain,
)
from webapp.services.images import (
    MAX_BYTES,
    ImageRejected,
    PreparedImage,
    prepare_image,
    remove_stored,
    save_prepared,
)
from webapp.services.sanitize import clean_html
from webapp.storefront.hosts import forget_hosts

LOGO_MAX_SIDE = 4096
FAVICON_MAX_SIDE = 512
TRACKED = {
    "brand_name": "brand name",
    "primary_color": "primary colour",
    "accent_color": "accent colour",
    "logo_path": "logo",
    "favicon_path": "favicon",
    "hero_title": "hero title",
    "hero_text": "hero text",
    "custom_domain": "custom domain",
    "footer_links": "footer links",
}


@bp.before_request
def tenants_only():
    """The distributor has no storefront of its own: the editor looks absent (404)."""
    if current_user.is_authenticated and current_user.organization.is_root:
        abort(404)


def _storefront() -> Storefront:
    storefront = db.session.scalar(Storefront.in_org(org_id()))
    if storefront is None:
        abort(404)
    return storefront


def _premium() -> bool:
    return current_user.organization.edition == Edition.PREMIUM


def _media_url(name: str) -> str:
    return url_for("media.file", filename=name)


def _form_data(storefront: Storefront) -> dict:
    links = [
        {"label": label, "url": url} for label, url in footer_links_of(storefront.footer_links)
    ]
    return {
        "brand_name": storefront.brand_name,
        "primary_color": storefront.primary_color,
        "accent_color": storefront.accent_color,
        "hero_title": storefront.hero_title,
        "hero_text": storefront.hero_text,
        "custom_domain": storefront.custom_domain or "",
        "footer_links": links + [{}] * (MAX_FOOTER_LINKS - len(links)),
    }


def _valid(form: BrandingForm, name: str) -> bool:
    return name in form._fields and not form[name].errors


def _submitted_links(form: BrandingForm) -> list[dict]:
    """The valid, non-blank footer links of the form, in order."""
    return [
        {"label": entry.form.label.data, "url": entry.form.url.data}
        for entry in form.footer_links
        if not entry.errors and not entry.form.is_blank
    ]


def _check_domain(form: BrandingForm, storefront: Storefront) -> str | None:
    """The parsed custom domain, or None with an error on the field."""
    try:
        domain = parse_custom_domain(form.custom_domain.data, reserved=domains.platform_hosts())
    except InvalidDomain as exc:
        form.custom_domain.errors.append(str(exc))
        return None
    if domain is not None:
        taken = db.session.scalar(
            select(func.count()).where(
                Storefront.custom_domain == domain, Storefront.id != storefront.id
            )
        )
        if taken:
            form.custom_domain.errors.append(
                "This domain is already used by another storefront. Check the spelling, or "
                "contact support if it is yours."
            )
            return None
    return domain


def _check_image(field, max_side: int) -> PreparedImage | None:
    """The uploaded image checked and re-encoded in memory (not yet written), or None."""
    storage = field.data
    if not storage:
        return None
    data = storage.stream.read(MAX_BYTES + 1)  # never more than the limit in memory
    try:
        return prepare_image(data, max_side=max_side, filename=storage.filename or "")
    except ImageRejected as exc:
        field.errors.append(str(exc))
        return None


def _preview(form: BrandingForm, storefront: Storefront, premium: bool):
    """The brand with the submitted values that are valid, the saved ones elsewhere; uploads
    are only shown once saved. Returns (Brand, labels of the fields kept as saved)."""
    kept = []

    def pick(name: str, saved):
        if _valid(form, name):
            return form[name].data
        kept.append(form[name].label.text)
        return saved

    draft = Storefront(  # transient: never added to the session
        brand_name=pick("brand_name", storefront.brand_name),
        primary_color=pick("primary_color", storefront.primary_color),
        accent_color=pick("accent_color", storefront.accent_color),
        hero_title=pick("hero_title", storefront.hero_title),
        hero_text=pick("hero_text", storefront.hero_text),
        logo_path="" if form.remove_logo.data else storefront.logo_path,
        favicon_path="" if form.remove_favicon.data else storefront.favicon_path,
        footer_links=_submitted_links(form) if premium else [],
    )
    return brand_for(draft, media_url=_media_url, premium=premium), kept


def _context(form, storefront, premium, brand: Brand, kept=(), domain=None, **extra) -> dict:
    domain = domain if domain is not None else storefront.custom_domain
    return {
        "form": form,
        "storefront": storefront,
        "premium": premium,
        "brand": brand,
        "warnings": brand.warnings,
        "kept": list(kept),
        "store_url": url_for("storefront.home", slug=storefront.slug, _external=True),
        "domain_url": f"https://{domain}/" if premium and domain else None,
        "domain_record": domains.record_name(storefront.custom_domain)
        if storefront.custom_domain
        else "",
        "saved_logo_url": _media_url(storefront.logo_path) if storefront.logo_path else None,
        "saved_favicon_url": _media_url(storefront.favicon_path)
        if storefront.favicon_path
        else None,
        "image_types": IMAGE_TYPES,
        "favicon_max_side": FAVICON_MAX_SIDE,
        **extra,
    }


def _snapshot(storefront: Storefront) -> dict:
    return {name: getattr(storefront, name) for name in TRACKED}


@bp.route("", methods=["GET", "POST"])
def edit():
    """The branding editor; Save validates everything first and saves nothing on error."""
    storefront = _storefront()
    premium = _premium()
    if request.method == "GET":
        form = make_form(premium, data=_form_data(storefront))
        brand = brand_for(storefront, media_url=_media_url, premium=premium)
        return render_template("branding/edit.html", **_context(form, storefront, premium, brand))

    form = make_form(premium)
    form.validate()
    domain = _check_domain(form, storefront) if premium and _valid(form, "custom_domain") else None
    logo = _check_image(form.logo, LOGO_MAX_SIDE)
    favicon = _check_image(form.favicon, FAVICON_MAX_SIDE)
    if has_errors(form):
        return _invalid(form, storefront, premium)

    before = _snapshot(storefront)
    uploads = uploads_dir()
    written = []
    if logo is not None:
        storefront.logo_path = save_prepared(logo, uploads).filename
        written.append(storefront.logo_path)
    elif form.remove_logo.data:
        storefront.logo_path = ""
    if favicon is not None:
        storefront.favicon_path = save_prepared(favicon, uploads).filename
        written.append(storefront.favicon_path)
    elif form.remove_favicon.data:
        storefront.favicon_path = ""
    storefront.brand_name = form.brand_name.data
    storefront.primary_color = form.primary_color.data
    storefront.accent_color = form.accent_color.data
    storefront.hero_title = form.hero_title.data or ""
    storefront.hero_text = clean_html(form.hero_text.data)
    domain_changed = False
    if premium:
        domain_changed = domains.set_domain(storefront, domain)
        storefront.footer_links = _submitted_links(form)
    storefront.branded_at = utcnow()
    after = _snapshot(storefront)
    changed = [key for key in TRACKED if before[key] != after[key]]
    audit.record(
        organization_id=org_id(),
        actor=current_user,
        action="storefront.branding",
        entity_type="storefront",
        entity_id=storefront.id,
        summary="Branding saved: "
        + (", ".join(TRACKED[key] for key in changed) + " changed" if changed else "no changes"),
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another storefront took the same domain between the check and the commit.
        db.session.rollback()
        for name in written:
            remove_stored(name, uploads)
        if not premium:
            raise
        storefront = _storefront()
        form.custom_domain.errors.append("This domain is already used by another storefront.")
        return _invalid(form, storefront, premium)

    for key in ("logo_path", "favicon_path"):
        if before[key] and before[key] != after[key]:
            remove_stored(before[key], uploads)
    forget_hosts()
    flash("Branding saved. Your storefront shows it now.", "success")
    if domain_changed:
        _queue_domain_check(storefront)
    if brand_for(storefront, media_url=_media_url, premium=premium).warnings:
        flash("Saved with contrast warnings: see the notes under Colours.", "warning")
    return redirect(url_for("branding.edit"), 303)


def _queue_domain_check(storefront: Storefront) -> None:
    if domains.queue_check(storefront):
        flash(
            f"Your domain {storefront.custom_domain} is pending: publish the TXT record shown "
            "under Custom domain; we check it now and whenever you press Check now.",
            "info",
        )
    else:
        flash("The domain check could not be queued now; press Check now in a minute.", "warning")


@bp.post("/domain/check")
def check_domain():
    """Queue a look-up of the pending custom domain's TXT record."""
    storefront = _storefront()
    if not _premium() or not storefront.custom_domain:
        abort(404)
    if storefront.domain_verified_at is not None:
        flash("Your domain is already verified.", "info")
    else:
        _queue_domain_check(storefront)
    return redirect(url_for("branding.edit"), 303)


def _invalid(form: BrandingForm, storefront: Storefront, premium: bool):
    brand, kept = _preview(form, storefront, premium)
    return (
        render_template(
            "branding/edit.html",
            **_context(form, storefront, premium, brand, kept, failed=True),
        ),
        400,
    )


@bp.post("/preview")
def preview():
    """The preview fragment for the values in the form (htmx, on change)."""
    storefront = _storefront()
    premium = _premium()
    form = make_form(premium)
    form.validate()
    domain = None
    if premium and _valid(form, "custom_domain"):
        domain = _check_domain(form, storefront)
    brand, kept = _preview(form, storefront, premium)
    context = _context(form, storefront, premium, brand, kept, domain=domain or "")
    preview_html = render_block("branding/edit.html", "preview", **context)
    # The contrast notes sit under the colour fields: swapped out of band, into a live region.
    warnings_html = render_block("branding/edit.html", "warnings", **context)
    return (
        f"{preview_html}\n"
        f'<div id="contrast-warnings" hx-swap-oob="innerHTML">{warnings_html}</div>\n'
    )


@bp.get("/preview.css")
def preview_css():
    """The preview's colours: only validated #rrggbb values reach the stylesheet."""
    storefront = _storefront()
    brand = Brand(
        primary=normalise_colour(request.args.get("primary"))
        or normalise_colour(storefront.primary_color)
        or DEFAULT_PRIMARY,
        accent=normalise_colour(request.args.get("accent"))
        or normalise_colour(storefront.accent_color)
        or DEFAULT_ACCENT,
    )
    css = render_template("branding/preview.css", brand=brand)
    return Response(css, mimetype="text/css")


@bp.get("/editor.css")
def editor_css():
    """The editor's layout and the preview's look (no inline styles under the CSP)."""
    return Response(render_template("branding/editor.css"), mimetype="text/css")
