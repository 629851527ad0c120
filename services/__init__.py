"""Deployable services built on the exchange kernel."""
