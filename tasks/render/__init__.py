"""meta.yaml text -> Recipe: jinja2 context, selectors, YAML with positions, schema check.

One job per module:

    discovery.py       where the recipes are (flat, feedstock and deeper layouts)
    variants.py        conda_build_config.yaml files -> the variant; variant pins of requirements
    jinja_env.py       the jinja2 Environment; rendering that keeps original line numbers
    template_cache.py  compiled templates cached by content hash (the costly part of a render)
    functions.py       conda-build's jinja functions: compiler, stdlib, cdt, pin_* ...
    loaders.py         jinja functions reading files: load_file_regex/_data, load_setup_py_data ...
    source_vars.py     GIT_* / HG_* from a checkout, placeholders before the source is fetched
    lenient.py         where we read like conda-build (warnings), and strict=1 does not
    pins.py            pin expressions (min_pin/max_pin -> ">=1.2,<2.0a0")
    selectors.py       ``# [expr]`` names and line selection
    tracking.py        which variant keys a recipe read
    yaml_positions.py  YAML -> data that knows each value's line, column and source text
    matchspec.py       requirement match specs: check and normalise
    schema.py          positioned data -> model objects, every key and type checked
    suggest.py         "did you mean ...?"
    recipe.py          one meta.yaml -> Recipe | Skipped | problems
    satisfy.py         does a requirement accept the version the stack builds?
    stack_loader.py    settings -> Stack (all recipes, order, every problem and warning)
    output.py          the rendered recipe as YAML (``doit render:<name>``)
"""
