"""Backends that turn a layer graph into something that runs. Each imports its framework lazily."""
