"""meta.yaml text -> Recipe: jinja2 context, selectors, YAML with positions, schema check.

One job per module:

    discovery.py       where the recipes are (flat and feedstock layouts)
    variants.py        conda_build_config.yaml files -> the variant; variant pins of requirements
    jinja_env.py       the jinja2 Environment; rendering that keeps original line numbers
    template_cache.py  compiled templates cached by content hash (the costly part of a render)
    functions.py       conda-build's jinja functions: compiler, stdlib, cdt, pin_* ...
    pins.py            pin expressions (min_pin/max_pin -> ">=1.2,<2.0a0")
    selectors.py       ``# [expr]`` names and line selection
    tracking.py        which variant keys a recipe read
    yaml_positions.py  YAML -> data that knows each value's line, column and source text
    matchspec.py       requirement match specs: check and normalise
    schema.py          positioned data -> model objects, every key and type checked
    suggest.py         "did you mean ...?"
    recipe.py          one meta.yaml -> Recipe | Skipped | problems
    stack_loader.py    settings -> Stack (all recipes, order, every problem)
    output.py          the rendered recipe as YAML (``doit render:<name>``)
"""
