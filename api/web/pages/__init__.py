"""The web front's pages, one module per part of the quality system."""
