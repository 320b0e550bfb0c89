"""``agentic-commerce``: the command line the Makefile calls.

:mod:`~orchestration.cli.parser` parses; each subcommand's function lives in the module of its area
(``world``, ``pipeline``, ``reasoning``, ``demo``, ``status``, ``bench``, ``ui``) and only calls the
platform's libraries. Every subcommand has ``--help``; a problem the user can fix is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import sys

from orchestration.cli.errors import CliError
from orchestration.cli.output import quiet_libraries
from orchestration.cli.parser import build_parser

__all__ = ["CliError", "build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_arguments_on", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if getattr(args, "uses_data_dir", True):
        from orchestration.settings import data_paths

        quiet_libraries(data_paths().logs)
    try:
        return int(args.handler(args) or 0)
    except CliError as error:
        print(f"agentic-commerce {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
