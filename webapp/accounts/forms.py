"""The account (customer) form, shared by the distributor and its tenants."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from webapp.pricelists.forms import currency_choices, iso_currency
from webapp.validators import plain_text


class AccountForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            plain_text,
            DataRequired("Enter the account's name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
    )
    email = EmailField(
        "Billing email",
        validators=[
            Optional(),
            Length(max=254, message="Use at most 254 characters."),
            Email("Enter an email address like billing@example.com.", check_deliverability=False),
        ],
    )
    billing_currency = SelectField(
        "Billing currency", validate_choice=False, validators=[iso_currency], default="EUR"
    )
    enabled_for_ordering = BooleanField("Enabled for ordering")
    # Only the distributor's accounts can be resellers; removed from a tenant's form.
    is_reseller = BooleanField("Reseller (can become a tenant reseller)")

    def __init__(self, *args, distributor: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.billing_currency.choices = currency_choices()
        if not distributor:
            del self.is_reseller
