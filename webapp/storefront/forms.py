"""End-customer forms on the storefront."""

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, ValidationError

from webapp.services.commerce import MAX_QUANTITY
from webapp.services.password_rules import password_problem
from webapp.validators import plain_text


class SignUpForm(FlaskForm):
    name = StringField(
        "Company or your name",
        validators=[plain_text, DataRequired("Enter a name for your account."), Length(max=200)],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address, for example you@example.com."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=12, max=256, message="The password must be at least 12 characters long."),
        ],
    )

    def validate_password(self, field) -> None:
        """The same rule as everywhere else: not one of the 10,000 most common passwords,
        not the email address."""
        problem = password_problem(field.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)

    password_again = PasswordField(
        "Password again",
        validators=[
            DataRequired("Enter the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )


class StoreLoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class QuantityForm(FlaskForm):
    quantity = IntegerField(
        "Quantity",
        validators=[
            DataRequired("Enter a quantity."),
            NumberRange(1, MAX_QUANTITY, f"Choose a quantity from 1 to {MAX_QUANTITY:,}."),
        ],
    )
