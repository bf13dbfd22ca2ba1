"""The branding form: brand, colours, images, home page, and the Premium-only fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.fields import ColorField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.services.branding import (
    MAX_FOOTER_LINKS,
    MAX_LINK_LABEL,
    MAX_LINK_URL,
    normalise_colour,
    safe_link_url,
)
from webapp.validators import plain_text

IMAGE_TYPES = "image/png,image/jpeg,image/webp"
COLOUR_MESSAGE = "Enter a colour as # and six hexadecimal digits, for example #1f4e79."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _colour(form, field):
    normalised = normalise_colour(field.data)
    if normalised is None:
        raise ValidationError(COLOUR_MESSAGE)
    field.data = normalised


class FooterLinkForm(Form):
    """One footer link; both parts or neither."""

    label = StringField(
        "Label",
        filters=[_strip],
        validators=[Length(max=MAX_LINK_LABEL, message=f"At most {MAX_LINK_LABEL} characters.")],
    )
    url = StringField(
        "Address",
        filters=[_strip],
        validators=[Length(max=MAX_LINK_URL, message=f"At most {MAX_LINK_URL} characters.")],
    )

    def validate_label(self, field):
        if self.url.data and not field.data:
            raise ValidationError("Enter the text of this link.")

    def validate_url(self, field):
        if field.data and not safe_link_url(field.data):
            raise ValidationError(
                "Enter a full address starting with https:// or http://, or mailto: and an "
                "email address."
            )
        if self.label.data and not field.data:
            raise ValidationError("Enter the address this link opens.")

    @property
    def is_blank(self) -> bool:
        return not self.label.data and not self.url.data


class FixedFieldList(FieldList):
    """Exactly max_entries entries, entry i always from the posted index i. (FieldList
    renumbers sparse indices and then refills from the form data, which can read a posted
    entry twice.)"""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.last_index = -1
        self.entries = []
        saved = list(data) if data is not unset_value and data else []
        self.object_data = saved
        for index in range(self.max_entries):
            entry_data = saved[index] if index < len(saved) else unset_value
            self._add_entry(formdata, entry_data, index=index)


class BrandingForm(FlaskForm):
    brand_name = StringField(
        "Brand name",
        filters=[_strip],
        validators=[
            plain_text,
            DataRequired("Enter the name your customers know you by."),
            Length(max=200, message="At most 200 characters."),
        ],
    )
    primary_color = ColorField("Primary colour", filters=[_strip], validators=[_colour])
    accent_color = ColorField("Accent colour", filters=[_strip], validators=[_colour])
    logo = FileField("Logo")
    remove_logo = BooleanField("Remove the logo")
    favicon = FileField("Favicon")
    remove_favicon = BooleanField("Remove the favicon")
    hero_title = StringField(
        "Hero title",
        filters=[_strip],
        validators=[plain_text, Length(max=200, message="At most 200 characters.")],
    )
    hero_text = TextAreaField(
        "Hero text",
        validators=[Length(max=5000, message="At most 5,000 characters.")],
    )
    # Premium only: removed from the form for Basic tenants (see make_form).
    custom_domain = StringField(
        "Custom domain",
        filters=[_strip],
        validators=[Length(max=253, message="At most 253 characters.")],
    )
    footer_links = FixedFieldList(
        FormField(FooterLinkForm),
        min_entries=MAX_FOOTER_LINKS,
        max_entries=MAX_FOOTER_LINKS,
    )


PREMIUM_FIELDS = ("custom_domain", "footer_links")


def make_form(premium: bool, **kwargs) -> BrandingForm:
    """The form for this edition: a Basic tenant's form has no Premium fields at all, so
    nothing posted for them is read or validated."""
    form = BrandingForm(**kwargs)
    if not premium:
        for name in PREMIUM_FIELDS:
            delattr(form, name)
    return form


def has_errors(form: BrandingForm) -> bool:
    return any(field.errors for field in form)
