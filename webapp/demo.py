"""Demo data: the distributor DEMO with the price lists and accounts the README describes."""

from __future__ import annotations

import os
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import (
    Account,
    AccountPlatformSync,
    Organization,
    PriceList,
    PriceListItem,
    Product,
    ProvisioningPlatform,
    Role,
    SyncStatus,
    User,
    utcnow,
)
from webapp.services.passwords import hash_password

PLATFORMS = [
    (
        "oss",
        "interworks.cloud OSS",
        True,
        "Sync the account as reseller in Cloud OSS (Account › Provisioning › Sync as reseller).",
    ),
    (
        "acronis",
        "Acronis Cloud Backup",
        True,
        "Sync the account as reseller in the Acronis portal.",
    ),
    (
        "microsoft",
        "Microsoft 365 & Azure",
        False,
        "No synchronization is necessary in the root organization.",
    ),
    ("panda", "Panda", False, "No synchronization is necessary in the root organization."),
]

# (platform, category, names): 16 products per platform, 64 in all.
CATALOGUE = {
    "oss": (
        "Hosting",
        [
            "Cloud Server S",
            "Cloud Server M",
            "Cloud Server L",
            "Cloud Server XL",
            "Managed Database Basic",
            "Managed Database Pro",
            "Object Storage 100 GB",
            "Object Storage 1 TB",
            "Load Balancer",
            "Dedicated IP",
            "DNS Hosting",
            "SSL Certificate DV",
            "SSL Certificate OV",
            "Web Hosting Starter",
            "Web Hosting Business",
            "Cloud Firewall",
        ],
    ),
    "acronis": (
        "Backup",
        [
            "Cyber Protect Standard Workstation",
            "Cyber Protect Standard Server",
            "Cyber Protect Advanced Workstation",
            "Cyber Protect Advanced Server",
            "Cloud Storage 250 GB",
            "Cloud Storage 1 TB",
            "Cloud Storage 5 TB",
            "Microsoft 365 Backup Seat",
            "Google Workspace Backup Seat",
            "Disaster Recovery Basic",
            "Disaster Recovery Pro",
            "File Sync & Share",
            "Notary Add-on",
            "Email Security",
            "Endpoint Detection & Response",
            "Virtual Machine Backup",
        ],
    ),
    "microsoft": (
        "Productivity",
        [
            "Microsoft 365 Business Basic",
            "Microsoft 365 Business Standard",
            "Microsoft 365 Business Premium",
            "Microsoft 365 Apps for business",
            "Microsoft 365 E3",
            "Microsoft 365 E5",
            "Exchange Online Plan 1",
            "Exchange Online Plan 2",
            "Microsoft Teams Essentials",
            "Microsoft Teams Premium",
            "Microsoft Defender for Business",
            "Microsoft Intune Plan 1",
            "Power BI Pro",
            "Visio Plan 2",
            "Project Plan 3",
            "Azure Plan",
        ],
    ),
    "panda": (
        "Security",
        [
            "Panda Dome Essential",
            "Panda Dome Advanced",
            "Panda Dome Complete",
            "Panda Dome Premium",
            "Panda Endpoint Protection",
            "Panda Endpoint Protection Plus",
            "Panda Adaptive Defense",
            "Panda Adaptive Defense 360",
            "Panda Patch Management",
            "Panda Full Encryption",
            "Panda Data Control",
            "Panda Advanced Reporting Tool",
            "Panda Systems Management",
            "Panda Fusion",
            "Panda Email Protection",
            "Panda Web Filtering",
        ],
    ),
}

ACCOUNTS = [
    # name, reseller, lite, enabled, currency, synced platforms
    ("Northwind Cloud", True, False, True, "EUR", ["oss", "acronis"]),
    ("Fabrikam Ltd", True, False, False, "EUR", []),
    ("Tailspin IT", True, False, True, "EUR", ["oss"]),
    ("Contoso Lite", False, True, True, "USD", ["oss", "acronis"]),
    ("Litware Inc", False, False, True, "EUR", []),
]


def _get_or_create(model, where: dict, **defaults):
    row = db.session.scalar(select(model).filter_by(**where))
    if row is None:
        row = model(**where, **defaults)
        db.session.add(row)
        db.session.flush()
    return row


def ensure_platforms() -> dict[str, ProvisioningPlatform]:
    platforms = {}
    for code, name, requires, help_text in PLATFORMS:
        platforms[code] = _get_or_create(
            ProvisioningPlatform,
            {"code": code},
            name=name,
            requires_reseller_sync=requires,
            sync_help=help_text,
        )
    return platforms


def seed_demo(password: str | None = None) -> Organization:
    """Create the demo distributor, its catalogue and accounts; safe to run again."""
    password = password or os.environ.get("DEMO_PASSWORD") or "admin"
    platforms = ensure_platforms()
    org = _get_or_create(
        Organization,
        {"client_id": "DEMO"},
        name="Demo Distributor",
        language="en",
        timezone="Europe/Athens",
        date_format="dd/MM/yyyy",
        currency="EUR",
    )
    if db.session.scalar(select(User).filter_by(organization_id=org.id, username="admin")) is None:
        db.session.add(
            User(
                organization_id=org.id,
                username="admin",
                email="admin@demo.example",
                password_hash=hash_password(password),
                role=Role.ADMIN,
            )
        )

    products: dict[str, Product] = {}
    for code, (category, names) in CATALOGUE.items():
        for i, name in enumerate(names, start=1):
            sku = f"{code.upper()}-{i:03d}"
            products[sku] = _get_or_create(
                Product,
                {"organization_id": org.id, "sku": sku},
                platform_id=platforms[code].id,
                name=name,
                description=f"{name} — provisioned through {platforms[code].name}.",
                category=category,
            )

    def price_for(index: int, currency: str) -> Decimal:
        base = Decimal(3) + Decimal(index % 16) * Decimal("2.75") + Decimal(index // 16)
        return (base * (Decimal("1.08") if currency == "USD" else 1)).quantize(Decimal("0.01"))

    for list_name, currency, codes in [
        ("Partner EUR", "EUR", list(CATALOGUE)),
        ("Partner USD", "USD", list(CATALOGUE)),
        ("Microsoft only EUR", "EUR", ["microsoft"]),
    ]:
        price_list = _get_or_create(
            PriceList, {"organization_id": org.id, "name": list_name}, currency=currency
        )
        for index, (sku, product) in enumerate(products.items()):
            if sku.split("-")[0].lower() not in codes:
                continue
            _get_or_create(
                PriceListItem,
                {"price_list_id": price_list.id, "product_id": product.id},
                organization_id=org.id,
                retail_price=price_for(index, currency),
            )

    for name, reseller, lite, enabled, currency, synced in ACCOUNTS:
        account = _get_or_create(
            Account,
            {"organization_id": org.id, "name": name},
            email=f"billing@{name.split()[0].lower()}.example",
            is_reseller=reseller,
            is_lite_reseller=lite,
            enabled_for_ordering=enabled,
            billing_currency=currency,
        )
        for code in synced:
            _get_or_create(
                AccountPlatformSync,
                {"account_id": account.id, "platform_id": platforms[code].id},
                organization_id=org.id,
                status=SyncStatus.SYNCED_AS_RESELLER,
                external_reference=f"{code.upper()}-{account.id:05d}",
                synced_at=utcnow(),
            )
    _seed_lite_customers(org, products)
    db.session.commit()
    return org


# Contoso Lite's own customers in the distributor's BSS, for the lite-reseller upgrade:
# (name, [(sku, quantity)]) — one without subscriptions is copied down at activation.
LITE_CUSTOMERS = [
    ("Adatum Corporation", [("MICROSOFT-003", 12), ("ACRONIS-002", 3)]),
    ("Wide World Importers", [("MICROSOFT-001", 25), ("PANDA-005", 25)]),
    ("Fourth Coffee", []),
]


def _seed_lite_customers(org: Organization, products: dict[str, Product]) -> None:
    from webapp.models import Subscription

    contoso = db.session.scalar(
        select(Account).where(Account.organization_id == org.id, Account.name == "Contoso Lite")
    )
    usd = db.session.scalar(
        select(PriceList).where(
            PriceList.organization_id == org.id, PriceList.name == "Partner USD"
        )
    )
    for name, lines in LITE_CUSTOMERS:
        customer = _get_or_create(
            Account,
            {"organization_id": org.id, "name": name},
            email=f"it@{name.split()[0].lower()}.example",
            enabled_for_ordering=True,
            billing_currency="USD",
            parent_account_id=contoso.id,
        )
        for sku, quantity in lines:
            product = products[sku]
            price = db.session.scalar(
                select(PriceListItem.retail_price).where(
                    PriceListItem.price_list_id == usd.id, PriceListItem.product_id == product.id
                )
            )
            _get_or_create(
                Subscription,
                {"organization_id": org.id, "account_id": customer.id, "product_id": product.id},
                quantity=quantity,
                unit_price=price,
                currency="USD",
                billing_period=product.billing_period,
            )


def _insert_ignore(table):
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def seed_bulk(organization: Organization, count: int, name: str = "Bulk EUR") -> PriceList:
    """A price list with `count` products, inserted set-based (100,000 in seconds)."""
    platforms = ensure_platforms()
    codes = list(platforms)
    price_list = _get_or_create(
        PriceList, {"organization_id": organization.id, "name": name}, currency="EUR"
    )
    have = db.session.scalar(
        select(func.count()).where(PriceListItem.price_list_id == price_list.id)
    )
    if have >= count:
        db.session.commit()
        return price_list
    now = utcnow()
    prefix = "".join(ch for ch in name.upper() if ch.isalnum())[:8]
    chunk = 10_000
    for start in range(1, count + 1, chunk):
        rows = [
            {
                "organization_id": organization.id,
                "platform_id": platforms[codes[i % len(codes)]].id,
                "sku": f"{prefix}-{i:07d}",
                "name": f"Bulk product {i:07d}",
                "description": "",
                "category": "Bulk",
                "billing_period": "Monthly",
                "created_at": now,
            }
            for i in range(start, min(start + chunk, count + 1))
        ]
        db.session.execute(_insert_ignore(Product.__table__), rows)
    db.session.flush()
    source = (
        select(
            Product.organization_id,
            literal(price_list.id),
            Product.id,
            (Product.id % 97 + 1),
        )
        .where(Product.organization_id == organization.id, Product.sku.like(f"{prefix}-%"))
        .order_by(Product.id)
    )
    db.session.execute(
        _insert_ignore(PriceListItem.__table__).from_select(
            ["organization_id", "price_list_id", "product_id", "retail_price"], source
        )
    )
    db.session.commit()
    return price_list
