"""meta.yaml text -> Recipe: jinja2, selectors, YAML with positions, schema check."""
