"""The envclone command line: one module per command group, registered on one Typer app."""
