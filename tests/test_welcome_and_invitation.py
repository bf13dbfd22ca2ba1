"""The new tenant's administrator: a welcome email with the Client ID and the sign-in link,
and the creation form's "send the administrator an invitation instead of a password"."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.conftest import Auth, csrf_from
from tests.helpers import GOOD_PASSWORD, account_id, creation_url, submit_creation
from tests.mailbox import emails_to, link_in
from webapp.extensions import db
from webapp.models import Organization, TenantReseller, User
from webapp.services import mail
from webapp.services.accounts import welcome_tenant_admin

ADMIN_EMAIL = "admin@northwind.example"


def _create(app, client, run_jobs, **overrides):
    auth = Auth(client)
    auth.login()
    response = submit_creation(client, app, **overrides)
    run_jobs()
    return response


def _tenant(app) -> TenantReseller:
    tenant = db.session.scalar(
        select(TenantReseller).where(
            TenantReseller.account_id == account_id(app, "Northwind Cloud")
        )
    )
    assert tenant is not None
    return tenant


def _welcome(app):
    with app.app_context():
        email = welcome_tenant_admin(_tenant(app))
        db.session.commit()
        mail.deliver([email])
        return email is not None


def test_the_welcome_email_has_the_client_id_and_the_sign_in_link(app, demo, client, run_jobs):
    """Written once per tenant: the Client ID, the username and an absolute sign-in link; a
    second call (a re-run of the step that calls it) writes nothing."""
    _create(app, client, run_jobs)
    with app.app_context():
        already = _tenant(app).admin_welcomed_at is not None
        client_id = db.session.scalar(
            select(Organization.client_id).where(Organization.name == "Northwind Cloud")
        )
    if not already:  # before the lead wires it into the pipeline, call it as the step will
        assert _welcome(app)
    assert not _welcome(app)
    [email] = [e for e in emails_to(app, ADMIN_EMAIL) if e.subject.startswith("Welcome")]
    display = f"{client_id[:5]}-{client_id[5:]}"
    assert f"Client ID: {display}" in email.body and "Username: nwadmin" in email.body
    assert link_in(email.body, "/login") == "/login"
    assert "/invitation/" not in email.body  # a password was set on the form


def test_the_welcome_email_invites_an_administrator_without_a_password(app, demo, client, run_jobs):
    """An administrator made without a password gets, in the welcome email, a link to
    choose one; with it they sign in to their new BSS."""
    _create(app, client, run_jobs)
    with app.app_context():
        tenant = _tenant(app)
        tenant.admin_welcomed_at = None
        admin = db.session.scalar(select(User).where(User.username == "nwadmin"))
        admin.password_hash = ""
        client_id = db.session.get(Organization, tenant.tenant_organization_id).client_id
        db.session.commit()
    assert _welcome(app)
    email = [e for e in emails_to(app, ADMIN_EMAIL) if e.subject.startswith("Welcome")][-1]
    path = link_in(email.body, "/invitation/")
    newcomer = app.test_client()
    token = csrf_from(newcomer.get(path).get_data(as_text=True))
    response = newcomer.post(
        path,
        data={"csrf_token": token, "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
    )
    assert response.status_code == 303
    signed_in = Auth(newcomer).login(
        client_id=client_id, username="nwadmin", password=GOOD_PASSWORD
    )
    assert signed_in.status_code == 302


def test_the_creation_form_offers_an_invitation_instead_of_a_password(app, demo, auth, client):
    """The Administrator Account section keeps the seed's fields and adds the invitation
    box; ticked, the password fields are not required by the form."""
    from webapp.tenants.forms import CreateTenantForm

    auth.login()
    page = client.get(creation_url(app)).get_data(as_text=True)
    assert "Send the administrator an invitation instead of setting a password" in page
    for label in ("Username", "Email", "Password", "Password again"):
        assert f">{label}</label>" in page
    with app.test_request_context():
        invited = CreateTenantForm(
            formdata=MultiDict({"admin_invite": "y", "admin_username": "x"}), meta={"csrf": False}
        )
        invited.set_choices([])
        invited.validate()
        assert invited.admin_password.errors == [] and invited.admin_password_again.errors == []
        not_invited = CreateTenantForm(formdata=MultiDict({}), meta={"csrf": False})
        not_invited.set_choices([])
        not_invited.validate()
        assert not_invited.admin_password.errors == ["Enter a password."]


def test_an_invited_administrator_chooses_a_password_from_the_welcome_email(
    app, demo, client, run_jobs
):
    """Created with the invitation box ticked and no password: the process completes, the
    administrator's welcome email carries the link, and they sign in with the password they
    chose."""
    response = _create(
        app,
        client,
        run_jobs,
        admin_invite="y",
        admin_password=None,
        admin_password_again=None,
    )
    assert response.status_code == 303
    with app.app_context():
        tenant = _tenant(app)
        assert tenant.status == "Active" and tenant.invite_admin
        assert tenant.admin_password_hash is None
        client_id = db.session.get(Organization, tenant.tenant_organization_id).client_id
    [email] = [e for e in emails_to(app, ADMIN_EMAIL) if e.subject.startswith("Welcome")]
    path = link_in(email.body, "/invitation/")
    newcomer = app.test_client()
    token = csrf_from(newcomer.get(path).get_data(as_text=True))
    newcomer.post(
        path,
        data={"csrf_token": token, "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
    )
    signed_in = Auth(newcomer).login(
        client_id=client_id, username="nwadmin", password=GOOD_PASSWORD
    )
    assert signed_in.status_code == 302
