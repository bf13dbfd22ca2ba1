"""Adding a user to the signed-in organization."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

MIN_PASSWORD = 12


class UserForm(FlaskForm):
    username = StringField(
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
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=254, message="Use at most 254 characters."),
            Email("Enter an email address like name@example.com.", check_deliverability=False),
        ],
    )
    password = PasswordField(
        "Password",
        description=f"At least {MIN_PASSWORD} characters. A few unrelated words work well.",
        validators=[
            DataRequired("Enter a password."),
            Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters."),
        ],
    )
