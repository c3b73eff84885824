"""Architecture diagrams: DOT source from an Analysis (dot.py), rendered by an engine (engine.py)."""
