"""The Create a Tenant Reseller form, with the seed's field names."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, StopValidation

from webapp.services import regional

SEPARATE_INVOICES_HELP = (
    "This option is used for the accounts that the back-ordering process will copy from the "
    "tenant organization to your organization. When it is checked, every account created "
    "below your reseller in your BSS gets the option checked, and your BSS generates a "
    "separate invoice per sub-customer of the reseller. You can change it at any time on the "
    "tenant reseller's page; a change applies only to sub-customers copied from then on, and "
    "each copied account can be changed on its own later, on its account page."
)


INVITE_HELP = (
    "The administrator gets an email with the Client ID and a link to choose their own "
    "password (valid 7 days). You do not need to pass a password on."
)


class UnlessInvited:
    """The password fields are not needed when the administrator is invited instead."""

    def __call__(self, form, field):
        if form.admin_invite.data:
            field.errors[:] = []
            raise StopValidation()


class CreateTenantForm(FlaskForm):
    # Choices are checked by the creation service, whose messages say what to do.
    price_list = SelectField(
        "Price List",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired("Choose a price list.")],
    )
    language = SelectField(
        "Language", validate_choice=False, validators=[DataRequired("Choose a language.")]
    )
    timezone = StringField("Time Zone", validators=[DataRequired("Choose a time zone.")])
    date_format = SelectField(
        "Date Format", validate_choice=False, validators=[DataRequired("Choose a date format.")]
    )
    edition = RadioField(
        "Edition",
        validate_choice=False,
        choices=[SelectChoice("Basic"), SelectChoice("Premium")],
        validators=[DataRequired("Choose an edition.")],
    )
    separate_invoices = BooleanField("Separate Invoices", description=SEPARATE_INVOICES_HELP)
    admin_username = StringField("Username", validators=[DataRequired("Enter a username.")])
    admin_email = EmailField("Email", validators=[DataRequired("Enter an email address.")])
    admin_invite = BooleanField(
        "Send the administrator an invitation instead of setting a password",
        description=INVITE_HELP,
    )
    admin_password = PasswordField(
        "Password", validators=[UnlessInvited(), DataRequired("Enter a password.")]
    )
    admin_password_again = PasswordField(
        "Password again",
        validators=[
            UnlessInvited(),
            DataRequired("Enter the password again."),
            EqualTo("admin_password", "The two passwords are not the same."),
        ],
    )

    def set_choices(self, eligible_price_lists) -> None:
        self.price_list.choices = [
            SelectChoice(
                c.price_list.id,
                f"{c.price_list.name} ({c.price_list.currency}, {c.product_count} products)",
            )
            for c in eligible_price_lists
        ]
        self.language.choices = [SelectChoice(code, name) for code, name in regional.languages()]
        self.date_format.choices = [
            SelectChoice(pattern, label) for pattern, label in regional.date_format_choices()
        ]


class RegionalSettingsForm(FlaskForm):
    """Language, time zone and date format after creation: they format the tenant's BSS and
    storefront, so they change at once for both."""

    language = SelectField(
        "Language", validate_choice=False, validators=[DataRequired("Choose a language.")]
    )
    timezone = StringField("Time Zone", validators=[DataRequired("Choose a time zone.")])
    date_format = SelectField(
        "Date Format", validate_choice=False, validators=[DataRequired("Choose a date format.")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice(code, name) for code, name in regional.languages()]
        self.date_format.choices = [
            SelectChoice(pattern, label) for pattern, label in regional.date_format_choices()
        ]

    def check(self) -> bool:
        """The same rules as the creation form, messages next to each field."""
        ok = self.validate_on_submit()
        if self.language.data and not regional.is_language(self.language.data):
            self.language.errors = [*self.language.errors, "Choose a language from the list."]
        if self.timezone.data and not regional.is_timezone(self.timezone.data.strip()):
            self.timezone.errors = [
                *self.timezone.errors,
                "Choose a time zone from the list, for example Europe/Athens.",
            ]
        if self.date_format.data and not regional.is_date_format(self.date_format.data):
            self.date_format.errors = [
                *self.date_format.errors,
                "Choose a date format from the list.",
            ]
        return ok and not (self.language.errors or self.timezone.errors or self.date_format.errors)
