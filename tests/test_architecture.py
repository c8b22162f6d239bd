"""The shape of the code (docs/ARCHITECTURE.md): no module reaches into another's private names, and the
documentation lists every package. The layer contracts themselves are import-linter's (`make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

import vigil

SRC = Path(vigil.__file__).resolve().parent
ROOT = SRC.parents[1]


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, ast.parse(path.read_text("utf-8"))))
    return out


def test_no_private_name_is_imported_from_another_module() -> None:
    found = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vigil"):
                if node.module == name:
                    continue
                private = [
                    a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
                ]
                if private:
                    found.append(f"{name} imports {', '.join(private)} from {node.module}")
    assert found == []


def test_every_package_is_in_the_readme_layout_and_the_architecture_page() -> None:
    packages = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file() and p.name != "data")
    readme = (ROOT / "README.md").read_text("utf-8")
    layout = readme[readme.index("## Layout") :]
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    assert [p for p in packages if f"src/vigil/{p}/" not in layout] == []
    assert [p for p in packages if f"`{p}/`" not in architecture] == []
