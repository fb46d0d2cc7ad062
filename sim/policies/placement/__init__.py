"""policies/placement."""
