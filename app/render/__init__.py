"""Renderings of a catalogue in the standard table layout: HTML, XLSX, CSV and a JSON tree."""
