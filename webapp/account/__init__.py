"""Your account: change your password, two-factor authentication and recovery codes."""
