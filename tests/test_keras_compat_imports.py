"""The seed programs' Keras imports, with ``keras`` changed to ``ember``, must import.

For every program in ``examples/seeds/`` this parses the file, takes
each ``import keras...`` / ``from keras... import ...`` statement (and the
``import ember ...`` ones the newer seeds already use), rewrites the module
path (``import keras`` becomes ``import ember as keras``, as the seeds' README
says, so the body's ``keras.x`` still resolves) and runs it. Then every
attribute chain the program's body reads from an imported name
(``keras.utils.to_categorical``, ``K.image_data_format``,
``np_utils.to_categorical``) must resolve on Ember.

A target that Ember does not have yet is listed in ``KNOWN_MISSING`` and runs
as xfail (not strict) with the missing name in its reason: nothing is skipped
silently, and it turns into a pass when the name arrives.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SEED_DIR = Path(__file__).resolve().parents[1] / "examples" / "seeds"
ROOTS = ("keras", "ember")

# "program: statement or chain" -> what is missing (and who brings it)
KNOWN_MISSING: dict = {}


def _rewrite_module(name: str) -> str:
    head, _, rest = name.partition(".")
    return "ember" + ("." + rest if rest else "") if head == "keras" else name


def _rewrite(node: ast.stmt) -> str:
    """The import statement with its module paths moved from keras to ember, names and aliases kept."""
    if isinstance(node, ast.Import):
        parts = []
        for alias in node.names:
            target = _rewrite_module(alias.name)
            if alias.asname:
                parts.append(f"{target} as {alias.asname}")
            elif alias.name.split(".")[0] == "keras":
                # `import keras` binds `keras`; `import keras.x` binds `keras` too (the package)
                parts.append("ember as keras" if "." not in alias.name else f"{target}")
            else:
                parts.append(target)
        text = "import " + ", ".join(parts)
        if any(a.name.startswith("keras.") and not a.asname for a in node.names):
            text += "\nimport ember as keras"
        return text
    names = ", ".join(f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names)
    return f"from {_rewrite_module(node.module)} import {names}"


def _is_ours(node) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in ROOTS for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] in ROOTS
    return False


def _bound_names(node) -> list:
    if isinstance(node, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    return [a.asname or a.name for a in node.names]


def _programs():
    if not SEED_DIR.is_dir():
        return []
    return sorted(SEED_DIR.glob("*.py"))


def _imports_and_chains(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    imports = [node for node in ast.walk(tree) if _is_ours(node)]
    imports.sort(key=lambda n: n.lineno)
    bound = {name for node in imports for name in _bound_names(node)}
    chains = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, base = [], node
            while isinstance(base, ast.Attribute):
                parts.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                chains.add(".".join([base.id, *reversed(parts)]))
    return imports, sorted(chains)


def _param(key, *values):
    reason = KNOWN_MISSING.get(key)
    marks = [pytest.mark.xfail(strict=False, reason=f"not in Ember yet: {reason}")] if reason else []
    return pytest.param(*values, id=key, marks=marks)


def _statement_cases():
    cases = []
    for path in _programs():
        imports, _ = _imports_and_chains(path)
        for node in imports:
            source = ast.unparse(node)
            cases.append(_param(f"{path.name}: {source}", path.name, source, _rewrite(node), _bound_names(node)))
    return cases


def _chain_cases():
    cases = []
    for path in _programs():
        imports, chains = _imports_and_chains(path)
        setup = "\n".join(_rewrite(node) for node in imports)
        for chain in chains:
            cases.append(_param(f"{path.name}: {chain}", path.name, setup, chain))
    return cases


def test_the_seed_programs_are_there():
    if not SEED_DIR.is_dir():
        pytest.fail(f"the seed programs are missing: expected them in {SEED_DIR}")
    assert len(_programs()) >= 9, [p.name for p in _programs()]
    assert _statement_cases() and _chain_cases()


def test_known_missing_entries_still_name_real_cases():
    ids = {p.id for p in _statement_cases() + _chain_cases()}
    stale = sorted(set(KNOWN_MISSING) - ids)
    assert not stale, f"KNOWN_MISSING lists cases the seed programs no longer have: {stale}"


@pytest.mark.parametrize("program,original,rewritten,names", _statement_cases())
def test_seed_import_statement_imports(program, original, rewritten, names):
    namespace = {}
    try:
        exec(compile(rewritten, f"<{program} imports>", "exec"), namespace)
    except (ImportError, AttributeError) as err:
        pytest.fail(f"{program}: `{original}` rewritten as `{rewritten}` failed: {type(err).__name__}: {err}")
    for name in names:
        assert name in namespace, f"{program}: `{rewritten}` did not bind {name!r}"


@pytest.mark.parametrize("program,setup,chain", _chain_cases())
def test_seed_attribute_chain_resolves(program, setup, chain):
    namespace = {}
    exec(compile(setup, f"<{program} imports>", "exec"), namespace)
    head, *rest = chain.split(".")
    value, walked = namespace[head], head
    for attr in rest:
        assert hasattr(value, attr), f"{program} uses {chain}, but {walked} has no attribute {attr!r}"
        value, walked = getattr(value, attr), f"{walked}.{attr}"


def test_rewrite_rules():
    def rewrite(src):
        return _rewrite(ast.parse(src).body[0])

    assert rewrite("import keras") == "import ember as keras"
    assert rewrite("import keras as K") == "import ember as K"
    assert rewrite("from keras.utils import np_utils") == "from ember.utils import np_utils"
    assert rewrite("from keras import backend as K") == "from ember import backend as K"
    assert rewrite("import keras.layers") == "import ember.layers\nimport ember as keras"
    assert rewrite("import ember as em") == "import ember as em"
