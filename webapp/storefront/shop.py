"""End customers: sign up, sign in, cart, order, subscriptions."""
