"""The layout's rules, read from the imports, so that they cannot break quietly.

The folders keep the package's floors apart; these are the rules they promise:

1. The loop (`looptrain.loop`) imports nothing from the run folder, the data or the commands, not
   even through another looptrain module: the lesson (the step, the epoch, the loop) must read on
   its own, not tangled with disk safety or with reading files.
2. Looking at finished runs (`looptrain.results`) never imports TensorFlow, Keras or TensorBoard,
   neither itself nor through any looptrain module it imports: drawing a finished run must not pay
   TensorFlow's start-up.
3. No library module imports a command (`looptrain.run`, `looptrain.plot`, `looptrain.report`):
   library code sits below every entry point.
4. No circle among looptrain's modules: each can be read after the ones it imports.

Every import statement counts, at module level or inside a function (a lazy import is paid the day
that function runs), relative ones too; `from looptrain.x import y` counts as importing the module
`looptrain.x.y` when there is one. The imports are read with `ast`, nothing is imported, so this test
needs no TensorFlow. An import by a string (`importlib.import_module(name)`, as the worker in
launch/isolation.py does) is not seen.

Importing `looptrain.a.b` also runs the `__init__` of `looptrain` and of `looptrain.a`. Rules 1 and 2
count that (TensorFlow imported by a package's `__init__` is paid by every module below it); the
circle check does not, since an `__init__` that re-exports a submodule which imports a sibling is
ordinary Python, not a circle. The `__init__` files hold only docstrings today; imports they gain
are checked as any module's.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "looptrain"
COMMANDS = ("looptrain.run", "looptrain.plot", "looptrain.report")
NOT_FOR_THE_LOOP = ("looptrain.runfolder", "looptrain.data", *COMMANDS)
TENSORFLOW = ("tensorflow", "keras", "tensorboard")


def inside(name: str, packages) -> bool:
    """True if the dotted name is one of the packages or lies below one of them."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def module_files(root: Path) -> dict[str, Path]:
    """Each module under the package folder `root`, by dotted name, with its file."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def read_imports(root: Path) -> dict[str, set[str]]:
    """Each module under `root` with the dotted names of everything it imports, anywhere in it."""
    files = module_files(root)
    imports = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # `from ..data import x` climbs level - 1 packages up from this one
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                # `from looptrain.loop import fit` imports the module looptrain.loop.fit
                found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                             for alias in node.names)
        imports[name] = found
    return imports


def first_chain(loads: dict[str, set[str]], start: str, wanted) -> list[str] | None:
    """The shortest chain of imports [start, ..., name] to a name that `wanted` accepts, or None."""
    chains = {start: [start]}
    queue = [start]
    for module in queue:  # breadth first: the queue grows while it is walked
        for target in sorted(loads[module]):
            if wanted(target):
                return chains[module] + [target]
            if target in loads and target not in chains:
                chains[target] = chains[module] + [target]
                queue.append(target)
    return None


def circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """At least one circle through every tangle of modules, each as [a, b, ..., a]."""
    found, done = [], set()

    def visit(module, path):
        if module in path:
            found.append(path[path.index(module):] + [module])
        elif module not in done:
            for target in sorted(imports[module] & imports.keys()):
                visit(target, path + [module])
            done.add(module)

    for module in sorted(imports):
        visit(module, [])
    return found


def layout_violations(root: Path) -> list[str]:
    """Every break of the four rules in the package folder `root`, as sentences."""
    files, imports = module_files(root), read_imports(root)
    where = {name: path.relative_to(root.parent).as_posix() for name, path in files.items()}
    # What running a module brings in: what it imports, and the __init__ of each package above it.
    parents = {name: {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)} for name in imports}
    loads = {name: imports[name] | (parents[name] & imports.keys()) for name in imports}

    def through(chain):
        return f" through {', '.join(chain[1:-1])}" if len(chain) > 2 else ""

    violations = []
    for name in imports:
        if inside(name, ["looptrain.loop"]):
            chain = first_chain(loads, name, lambda target: inside(target, NOT_FOR_THE_LOOP))
            if chain:
                violations.append(f"{where[name]} imports {chain[-1]}{through(chain)} "
                                  "(the loop knows no run folder, data or command)")
        if inside(name, ["looptrain.results"]):
            chain = first_chain(loads, name, lambda target: inside(target, TENSORFLOW))
            if chain:
                violations.append(f"{where[name]} imports {chain[-1]}{through(chain)} "
                                  "(drawing a finished run must not pay TensorFlow's start-up)")
        if name not in COMMANDS:
            for target in sorted(imports[name]):
                if inside(target, COMMANDS):
                    violations.append(f"{where[name]} imports {target} (library code sits below the commands)")
    for circle in circles(imports):
        violations.append(f"circle: {' -> '.join(circle)} (each module should read after those it imports)")
    return violations


def test_the_real_tree_keeps_the_rules():
    violations = layout_violations(PACKAGE)
    assert not violations, "\n".join(violations)


def test_the_checker_reads_the_real_tree():
    # A checker that read nothing would find nothing wrong: show it sees the lesson's own imports.
    imports = read_imports(PACKAGE)
    assert {"looptrain.loop.distribute", "tensorflow"} <= imports["looptrain.loop.step"]
    assert "looptrain.results.aggregate" in imports


# A looptrain small enough to plant one wrong import in; it keeps every rule as written.
FAKE = {
    "__init__.py": "",
    "errors.py": "class InputError(Exception):\n    pass\n",
    "loop/__init__.py": "",
    "loop/step.py": "from looptrain import errors\n",
    "loop/fit.py": "from . import step\n",
    "data/__init__.py": "",
    "data/rows.py": "import numpy\n",
    "runfolder/__init__.py": "",
    "runfolder/files.py": "from looptrain.errors import InputError\n",
    "results/__init__.py": "",
    "results/curves.py": "from looptrain.runfolder import files\n",
    "train.py": "from looptrain.data import rows\nfrom looptrain.loop import fit\nfrom looptrain.runfolder import files\n\n"
                "def train():\n    import tensorflow\n",
    "run.py": "from looptrain.train import train\n",
    "plot.py": "from looptrain.results import curves\n",
    "report.py": "from looptrain.results import curves\n",
}


def fake_package(folder: Path, plant: tuple[str, str] | None = None) -> Path:
    """Write FAKE under folder/looptrain, with the planted lines appended to one file; return its root."""
    root = folder / "looptrain"
    for name, text in FAKE.items():
        if plant and plant[0] == name:
            text += plant[1]
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_fake_package_keeps_the_rules(tmp_path):
    # So that each planted import below is what the checker reports, not something already there.
    assert layout_violations(fake_package(tmp_path)) == []


@pytest.mark.parametrize("file, planted, reported", [
    # 1. the loop: a lazy import of a submodule, a relative import, and one through another module
    pytest.param("loop/step.py", "def save():\n    from looptrain.runfolder import files\n",
                 "looptrain/loop/step.py imports looptrain.runfolder.files (the loop knows", id="loop-lazy"),
    pytest.param("loop/fit.py", "from ..data import rows\n",
                 "looptrain/loop/fit.py imports looptrain.data.rows (the loop knows", id="loop-relative"),
    pytest.param("loop/step.py", "import looptrain.results.curves\n",
                 "looptrain/loop/step.py imports looptrain.runfolder.files through looptrain.results.curves",
                 id="loop-through"),
    # 2. results: directly, lazily in a module it imports, and in the package's own __init__
    pytest.param("results/curves.py", "import keras\n",
                 "looptrain/results/curves.py imports keras (drawing", id="results-direct"),
    pytest.param("runfolder/files.py", "def write():\n    import tensorflow as tf\n",
                 "looptrain/results/curves.py imports tensorflow through looptrain.runfolder.files",
                 id="results-through-lazy"),
    pytest.param("__init__.py", "import tensorboard\n",
                 "looptrain/results/curves.py imports tensorboard through looptrain (drawing", id="results-init"),
    # 3. a library module importing a command
    pytest.param("data/rows.py", "from looptrain import plot\n",
                 "looptrain/data/rows.py imports looptrain.plot (library code", id="command"),
    # 4. a circle, closed by a lazy import
    pytest.param("runfolder/files.py", "def undo():\n    from looptrain.results import curves\n",
                 "circle: looptrain.results.curves -> looptrain.runfolder.files -> looptrain.results.curves",
                 id="circle"),
])
def test_a_planted_violation_is_reported(tmp_path, file, planted, reported):
    violations = layout_violations(fake_package(tmp_path, (file, planted)))
    assert any(violation.startswith(reported) for violation in violations), violations
