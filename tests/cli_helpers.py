"""Shared by the CLI tests: run `python -m gan_core` (gan_cli.main) in-process."""
from gan_cli import main as cli


def run_main(capsys, *args):
    """cli.main in-process: (exit code, stdout, stderr); argparse errors exit via SystemExit."""
    try:
        code = cli.main(list(args))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err
