"""The command line (`gan-explorer`, `python -m gan_core`): train, compare, dirac, export,
sweep. Layers: gan_cli uses gan_core and, for `export`, gan_draw; never explorer."""
