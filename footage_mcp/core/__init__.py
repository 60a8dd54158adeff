"""What every room shares: settings from the environment, the exception tree, text cleaning and
redaction. Imports nothing else of footage_mcp."""
