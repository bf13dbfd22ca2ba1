"""The sign-in form (the seed's three fields) and the forms around it: the second factor,
forgot password, and choosing a password from an emailed link."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.services.password_rules import MIN_LENGTH


class LoginForm(FlaskForm):
    client_id = StringField(
        "Client ID", validators=[DataRequired("Enter your Client ID."), Length(max=32)]
    )
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=80)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )


class TwoFactorForm(FlaskForm):
    code = StringField(
        "Code",
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        validators=[DataRequired("Enter the code from your app."), Length(max=32)],
    )


class ForgotPasswordForm(FlaskForm):
    client_id = StringField(
        "Client ID", validators=[DataRequired("Enter your Client ID."), Length(max=32)]
    )
    identifier = StringField(
        "Username or email",
        validators=[DataRequired("Enter your username or email address."), Length(max=254)],
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
