"""`python -m mamba_sae` (and `torchrun -m mamba_sae`): the `mamba-sae` command.

Hand-written, not exported: see nbs/10_cli.ipynb."""
from mamba_sae.cli import main

if __name__ == '__main__': main()
