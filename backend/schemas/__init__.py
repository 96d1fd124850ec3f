"""Marshmallow schemas: the wire format, its validation and its error messages."""
