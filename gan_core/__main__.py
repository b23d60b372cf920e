"""`python -m gan_core ...`: the command line's original spelling, kept as a public contract.
The command line itself lives in the gan_cli package (it may use the drawing package, which
gan_core never imports); this entry module only hands over to it and is never imported by
gan_core's modules."""
import sys

if __name__ == "__main__":      # not when a spawned sweep worker re-imports the main module
    from gan_cli.main import main

    sys.exit(main())
