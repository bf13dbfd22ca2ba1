"""The JSON API under /api/v1 (token authentication, problem+json errors, OpenAPI 3.1) and
the pages where an organization's administrators create and revoke API tokens."""
