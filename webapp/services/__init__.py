"""Domain logic that knows nothing of the HTTP request."""
