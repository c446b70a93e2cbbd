"""``python -m numvae``: see ``numvae.cli``."""

from .cli import main

raise SystemExit(main())
