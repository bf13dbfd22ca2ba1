"""Users of the signed-in organization."""
