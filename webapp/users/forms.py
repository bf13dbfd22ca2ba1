"""Adding and editing the signed-in organization's users, and its security settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from webapp.models import Role
from webapp.services.password_rules import MIN_LENGTH

MIN_PASSWORD = MIN_LENGTH
ROLE_CHOICES = [
    SelectChoice(Role.STAFF.value, "Staff"),
    SelectChoice(Role.ADMIN.value, "Administrator"),
]
ROLE_HINT = "Administrators also manage users, API tokens and security settings."


def _username_field():
    return StringField(
        "Username",
        validators=[
            DataRequired("Enter a username."),
            Length(max=80, message="Use at most 80 characters."),
            Regexp(
                r"^[A-Za-z0-9._@-]+$",
                message="Use letters, digits and . _ @ - only (no spaces).",
            ),
        ],
    )


def _email_field():
    return EmailField(
        "Email",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=254, message="Use at most 254 characters."),
            Email("Enter an email address like name@example.com.", check_deliverability=False),
        ],
    )


class UserForm(FlaskForm):
    username = _username_field()
    email = _email_field()
    role = RadioField("Role", choices=ROLE_CHOICES, default=Role.STAFF.value, description=ROLE_HINT)
    invite = BooleanField(
        "Send an invitation: they choose their own password from an emailed link",
        default=True,
    )
    password = PasswordField(
        "Password",
        description=f"Only when you do not send an invitation. At least {MIN_PASSWORD} "
        "characters; a few unrelated words work well.",
        validators=[
            Optional(),
            Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters."),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.invite.data and not self.password.data:
            self.password.errors = [
                *self.password.errors,
                "Enter a password, or tick “Send an invitation”.",
            ]
            ok = False
        return ok


class EditUserForm(FlaskForm):
    username = _username_field()
    email = _email_field()
    role = RadioField("Role", choices=ROLE_CHOICES, description=ROLE_HINT)


class SecuritySettingsForm(FlaskForm):
    require_admin_two_factor = BooleanField(
        "Require two-factor authentication for administrators",
        description="Administrators without it are asked to set it up at their next page "
        "view, and cannot turn it off.",
    )
