"""The `tao` / `taokit` command line: TAO's grammar on top of taokit's actions."""
