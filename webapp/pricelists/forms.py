"""Forms of the tenant's catalogue: price lists, bulk markup, currency, product marketing."""

from __future__ import annotations

from functools import cache

from babel.numbers import get_currency_name, list_currencies
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.services.pricing import ROUNDING_RULES
from webapp.validators import plain_text

# ISO 4217's X codes that are not money anyone is billed in: precious metals (XAU, XAG, XPD,
# XPT), bond-market units and SDRs (XBA-XBD, XDR, XSU, XUA), the testing and "no currency"
# codes (XTS, XXX) and withdrawn units. XAF, XCD, XCG, XOF and XPF are real currencies.
REAL_X_CURRENCIES = {"XAF", "XCD", "XCG", "XOF", "XPF"}


@cache
def monetary_currencies() -> frozenset[str]:
    """The ISO 4217 codes Babel knows that are money (see REAL_X_CURRENCIES)."""
    return frozenset(
        code for code in list_currencies() if not code.startswith("X") or code in REAL_X_CURRENCIES
    )


@cache
def currency_choices() -> list[SelectChoice]:
    """Every monetary ISO 4217 code Babel knows, labelled like "EUR — Euro"."""
    return [
        SelectChoice(code, f"{code} — {get_currency_name(code, locale='en')}")
        for code in sorted(monetary_currencies())
    ]


def is_currency(code: str | None) -> bool:
    return bool(code) and code in monetary_currencies()


def iso_currency(_form, field) -> None:
    if not is_currency(field.data):
        raise ValidationError("Choose a currency by its ISO 4217 code, for example EUR or USD.")


class PriceListForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            plain_text,
            DataRequired("Enter a name for the price list."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )
    currency = SelectField(
        "Currency", validate_choice=False, validators=[iso_currency], default="EUR"
    )
    active = BooleanField("Active (can be used by your storefront)", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class MarkupForm(FlaskForm):
    # The numbers are read by webapp.services.pricing, whose messages say what to type.
    markup_percent = StringField(
        "Markup over cost (%)", render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )
    rounding = RadioField(
        "Rounding",
        choices=[SelectChoice(rule, label) for rule, label in ROUNDING_RULES.items()],
        default="cent",
        validators=[DataRequired("Choose how prices are rounded.")],
    )
    exchange_rate = StringField(
        "Exchange rate", render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )


class CurrencyChangeForm(MarkupForm):
    """A currency with no priced list yet: the list to create and price in the same step."""

    currency = HiddenField()
    price_list_name = StringField(
        "Name of the new price list",
        validators=[
            DataRequired("Enter a name for the new price list."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )


class CurrencyForm(FlaskForm):
    currency = SelectField(
        "Your currency", validate_choice=False, validators=[iso_currency], default="EUR"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class ProductForm(FlaskForm):
    """Only what a tenant may change on a product: everything else is never read from the
    request, whatever fields a crafted POST adds."""

    name = StringField(
        "Name",
        validators=[
            plain_text,
            DataRequired("Enter the product's name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=4000, message="Use at most 4,000 characters.")],
        render_kw={"rows": 4, "cols": 32},
    )
    category = StringField(
        "Catalogue category",
        description="Groups products in your storefront's catalogue.",
        validators=[Length(max=80, message="Use at most 80 characters.")],
        render_kw={"list": "categories"},
    )
    image = FileField(
        "Image",
        description="PNG, JPEG or WebP, at most 1 MB.",
        render_kw={"accept": "image/png,image/jpeg,image/webp"},
    )
    remove_image = BooleanField("Remove the current image")
    marketing_html = TextAreaField(
        "Marketing text",
        description=(
            "Shown on the product's storefront page. Simple formatting is kept (paragraphs, "
            "bold, italic, lists, links); scripts, styles and anything else are removed."
        ),
        validators=[Length(max=20000, message="Use at most 20,000 characters.")],
        render_kw={"rows": 8, "cols": 32},
    )


# --- The distributor's catalogue --------------------------------------------------------------


def monetary_currency(_form, field) -> None:
    from webapp.services.catalog import currency_problem

    problem = currency_problem(field.data)
    if problem:
        raise ValidationError(problem)


class DistributorProductForm(FlaskForm):
    """A distributor's product: every field is the distributor's."""

    sku = StringField(
        "SKU",
        validators=[
            DataRequired("Enter the product's SKU."),
            Length(max=64, message="Use at most 64 characters."),
        ],
    )
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the product's name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
    )
    category = StringField(
        "Category", validators=[Length(max=80, message="Use at most 80 characters.")]
    )
    platform_id = SelectField(
        "Provisioning platform",
        coerce=int,
        validators=[DataRequired("Choose the platform the product is provisioned on.")],
    )
    billing_period = SelectField("Billing period")
    description = TextAreaField(
        "Description",
        validators=[Length(max=4000, message="Use at most 4,000 characters.")],
        render_kw={"rows": 4, "cols": 32},
    )

    def __init__(self, *args, platforms=(), periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.platform_id.choices = [SelectChoice(p.id, p.name) for p in platforms]
        self.billing_period.choices = [SelectChoice(p, p) for p in periods]


class DistributorPriceListForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter a name for the price list."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )
    currency = SelectField(
        "Currency", validate_choice=False, validators=[monetary_currency], default="EUR"
    )
    active = BooleanField("Active (can be chosen for tenant resellers)", default=True)
    copy_from = SelectField("Copy the prices of", coerce=int, default=0)
    exchange_rate = StringField(
        "Exchange rate",
        description="How much of the new list's currency one unit of the copied list's buys.",
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    rounding = RadioField(
        "Rounding of copied prices",
        choices=[SelectChoice(rule, label) for rule, label in ROUNDING_RULES.items()],
        default="cent",
        validators=[DataRequired("Choose how prices are rounded.")],
    )

    def __init__(self, *args, sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()
        self.copy_from.choices = [SelectChoice(0, "Nothing: start empty")] + [
            SelectChoice(pl.id, f"{pl.name} ({pl.currency})") for pl in sources
        ]
