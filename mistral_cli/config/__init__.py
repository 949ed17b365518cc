"""Configuration: platformdirs paths, profiles in a TOML file, and credentials."""
