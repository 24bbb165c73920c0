"""myo_mcp (in progress)."""
