"""Forms of the signed-in user's own account page."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.auth.forms import NewPasswordForm


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=256)],
    )


class ConfirmPasswordForm(FlaskForm):
    """Turning two-factor off or making new recovery codes asks for the password again."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password to confirm."), Length(max=256)],
    )


class EnableTwoFactorForm(FlaskForm):
    code = StringField(
        "Code from the app",
        description="The 6-digit code your authenticator app shows for this account.",
        validators=[DataRequired("Enter the 6-digit code from your app."), Length(max=16)],
    )
