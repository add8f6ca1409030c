"""`python -m app [--host H] [--port P]` is `unrolled serve`."""

import sys

from app.cli import main

main(["serve", *sys.argv[1:]])
