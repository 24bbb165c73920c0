"""``python -m myo_mcp``: the same as the ``myo-mcp`` command."""

from myo_mcp._cli import main

raise SystemExit(main())
