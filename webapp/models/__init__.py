"""All models, imported here so that Alembic and the app see every table."""

from webapp.models.account import (
    Account,
    AccountPlatformSync,
    ProvisioningPlatform,
    SandboxAdapterSetting,
    SyncStatus,
)
from webapp.models.api import ApiToken, IdempotencyRecord, UserSession
from webapp.models.audit import AuditLog
from webapp.models.base import utcnow
from webapp.models.billing import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceStatus,
)
from webapp.models.catalog import PriceList, PriceListItem, Product
from webapp.models.commerce import (
    DomainEvent,
    Order,
    OrderLine,
    StoreCustomer,
    Subscription,
    SubscriptionStatus,
)
from webapp.models.identity import (
    OneTimeToken,
    RecoveryCode,
    StoreCustomerSession,
    TokenPurpose,
)
from webapp.models.metric import MetricTotal
from webapp.models.notification import Notification, OutboxEmail
from webapp.models.organization import Edition, Organization, OrgStatus, Role, User
from webapp.models.process import (
    FINISHED_PROCESS_STATUSES,
    Process,
    ProcessStatus,
    ProcessTask,
    TaskStatus,
)
from webapp.models.tenant import (
    PlatformSetting,
    PlaybookTick,
    Storefront,
    TenantReseller,
    TenantStatus,
)

__all__ = [
    "FINISHED_PROCESS_STATUSES",
    "Account",
    "ApiToken",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceNumberSequence",
    "MetricTotal",
    "InvoiceStatus",
    "UserSession",
    "AccountPlatformSync",
    "SandboxAdapterSetting",
    "AuditLog",
    "DomainEvent",
    "Edition",
    "Notification",
    "OneTimeToken",
    "RecoveryCode",
    "StoreCustomerSession",
    "TokenPurpose",
    "OutboxEmail",
    "Order",
    "OrderLine",
    "OrgStatus",
    "Organization",
    "PlatformSetting",
    "PriceList",
    "PriceListItem",
    "Process",
    "ProcessStatus",
    "ProcessTask",
    "Product",
    "ProvisioningPlatform",
    "Role",
    "StoreCustomer",
    "PlaybookTick",
    "Storefront",
    "Subscription",
    "SubscriptionStatus",
    "SyncStatus",
    "TaskStatus",
    "TenantReseller",
    "TenantStatus",
    "User",
    "utcnow",
]
