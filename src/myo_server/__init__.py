"""myo_server (in progress)."""
