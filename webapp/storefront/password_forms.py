"""Storefront customers' password forms: forgot, reset from the emailed link, change."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.services.password_rules import MIN_LENGTH


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description=f"At least {MIN_LENGTH} characters. A few unrelated words work well.",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_LENGTH,
                max=256,
                message=f"The password must be at least {MIN_LENGTH} characters long.",
            ),
        ],
    )
    password_again = PasswordField(
        "New password again",
        validators=[
            DataRequired("Enter the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=256)],
    )
