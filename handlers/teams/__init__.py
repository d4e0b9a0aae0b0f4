"""Microsoft Teams: everything that knows the Teams platform lives here."""
