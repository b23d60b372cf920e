import sys

from .main import main

if __name__ == "__main__":      # not when a spawned sweep worker re-imports the main module
    sys.exit(main())
