"""myosdk (in progress)."""
