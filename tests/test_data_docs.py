"""docs/data.md: every python block runs, in order (but those starting ``# not run``: the loaders download),
and prints what its comments say where they are exact."""

import contextlib
import io
import pathlib
import re

import pytest

pytest.importorskip("pandas", reason="the data page uses pandas")
pytest.importorskip("sklearn", reason="the data page shows scikit-learn splits and scalers")

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "data.md"


def test_data_md_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 8
    namespace = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            if block.startswith("# not run"):
                continue
            exec(compile(block, str(DOC), "exec"), namespace)
    text = out.getvalue()
    for expected in [
        "8\n",
        "4 -2\n",
        "(10, 4) [0 1 0 1 0 1 0 1 0 1]",
        "from_csv: feature column 'monetary' has a missing value at line 8 of",
        "from_sql: the database rejected the query: no such table: donor",
        "25 7\n",
        "['recency_0', 'recency_1', 'recency_2', 'recency_4']",
        "[[2, 3, 8, 2, 1]]",
        "[[0 0 0 2 3 8 2 1]]",
        "[[0.6 0.8]]",
        "to_categorical: label 5 at index 1 is outside [0, 3)",
        # preprocessing layers (Keras's vocabulary order: count, then token, high to low)
        "['', '[UNK]', 'the', 'sat', 'cat', 'down', 'dog', 'a']",
        "[[2, 4, 1, 0, 0]]",
        "(1, 7)",
        "[[1, 3, 0]]",
        "[['red', 'blue', '[UNK]']]",
        "[-1, 2004, 2011, 1999]",
        "[[1. 0. 0. 2.]]",
        "[  3. 400.] [-1.2247  0.      1.2247]",
        "[[0. 1.]]",
        "True\n(8, 28, 28, 1)",
    ]:
        assert expected in text, (expected, text)
