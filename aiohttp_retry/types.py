"""Type aliases for code that accepts either a plain session or a retrying one."""

from __future__ import annotations

from aiohttp import ClientSession

from aiohttp_retry.client import RetryClient

__all__ = ["ClientType"]

ClientType = ClientSession | RetryClient
