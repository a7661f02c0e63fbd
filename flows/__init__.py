"""Thin Prefect 3 flows over pipeline/, and the `sitesift` command that runs them."""
