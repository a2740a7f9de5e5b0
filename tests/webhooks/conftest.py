"""Fixtures for the shop-platform webhook tests."""
