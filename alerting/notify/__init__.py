"""Alarm notifications: message formats, storm control, delivery with retry and dead-letter."""
