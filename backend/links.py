"""Addresses of Homeward's pages in mail, push, QR codes and handouts: always
PUBLIC_URL, never the host a request named (a forged Host header would put an
attacker's site in a password-reset mail)."""

from flask import current_app


def public_url(path: str = "") -> str:
    """PUBLIC_URL followed by `path`: public_url("/#/reset/<token>")."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
