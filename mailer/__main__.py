"""``python -m mailer``: the command line."""

from mailer.cli import main

main()
