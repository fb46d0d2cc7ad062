"""policies/scheduling."""
