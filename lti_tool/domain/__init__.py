"""Pure Python: rules, claim constants, shapes. No Flask, no database."""
