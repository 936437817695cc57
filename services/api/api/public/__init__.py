"""Unauthenticated endpoints on the API host."""
