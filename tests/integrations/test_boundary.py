"""The app's boundary, read from its source: it imports nothing of the host, and its modules form no cycle.

Imports inside functions count: an import hidden in a function is still a dependency, and a cycle
hidden that way is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import integrations

APP = Path(integrations.__file__).parent
HOST_PACKAGES = {"accounts", "chats", "dialogform_hooks", "tests", "examples"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, anywhere in it, as absolute dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from . import events` imports a module; `from .models import Webhook` a name.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def app_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts  # Django loads migrations by itself, as data
    }


def app_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {
        name: {other for other in imports_of(path) if other in modules and other != name}
        for name, path in modules.items()
    }


def test_the_app_imports_no_module_of_the_host() -> None:
    offenders = {
        name: sorted(other for other in imports_of(path) if other.split(".")[0] in HOST_PACKAGES)
        for name, path in app_modules().items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


# The optional parts' libraries, which only the extras install.
OPTIONAL_LIBRARIES = {"rest_framework", "rest_framework_api_key", "drf_spectacular", "prometheus_client"}


def test_the_core_imports_no_optional_part_nor_its_libraries() -> None:
    """The core runs on its own dependencies: only `integrations.urls` looks for the API part, and only
    when it is installed (its API keys tab joins the Integrations page)."""
    offenders = {
        name: sorted(
            other
            for other in imports_of(path)
            if other.split(".")[0] in OPTIONAL_LIBRARIES or other.startswith("integrations.contrib.")
        )
        for name, path in app_modules().items()
        if not name.startswith("integrations.contrib")
    }
    assert {name for name, found in offenders.items() if found} == {"integrations.urls"}
    assert not {other for other in offenders["integrations.urls"] if other.split(".")[0] in OPTIONAL_LIBRARIES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == 1:
                return [*path[path.index(following) :], following]
            if following not in state and (cycle := visit(following)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_app_modules_import_each_other_without_a_cycle() -> None:
    assert find_cycle(app_graph()) is None


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = APP / "queue.py"
    assert "integrations.jobs" not in imports_of(source)  # the job is queued by its dotted path


def test_imports_inside_functions_are_read() -> None:
    assert {"integrations.checks", "integrations.receivers", "integrations.notices"} <= imports_of(APP / "apps.py")


# What the sending engine may not reach: the pages, their services, the API and the operators' views.
ABOVE_SENDING = ("integrations.views", "integrations.webhooks", "integrations.status", "integrations.contrib")


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for following in graph[todo.pop()] - seen:
            seen.add(following)
            todo.append(following)
    return seen


def test_the_sending_engine_sits_below_the_pages_and_the_api() -> None:
    graph = app_graph()
    sending = [name for name in graph if name.startswith("integrations.sending")]
    assert len(sending) >= 5
    offenders = {
        name: sorted(other for other in reachable(graph, name) if other.startswith(ABOVE_SENDING)) for name in sending
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    # And the job reaches the engine by a plain import, not a callback installed at start-up.
    assert "integrations.sending.engine" in imports_of(APP / "jobs.py")
    assert "integrations.sending.engine" in imports_of(APP / "worker.py")


def test_only_the_sending_package_starts_threads_or_event_loops() -> None:
    starts = ("threading.Thread(", "ThreadPoolExecutor(", "asyncio.run(", "new_event_loop(")
    starters = {name for name, path in app_modules().items() if any(start in path.read_text() for start in starts)}
    assert {"integrations.sending.engine"} <= starters
    assert {name for name in starters if not name.startswith("integrations.sending")} == {
        "integrations.destinations",  # the DNS lookups' pool, so that a lookup has a deadline (pages use it too)
        # One thread each for our signals (the host's receivers) and for waking the workers after a commit:
        # off the sending path and the request.
        "integrations.background",
    }


def test_the_app_names_no_host_product_its_models_or_its_people() -> None:
    """No word of DialogForm in the app: not its name, its models' labels or its participants (migrations too)."""
    import re

    host_words = re.compile(r'dialogform|"chats\.|"accounts\.|participant', re.IGNORECASE)
    found = [
        f"{path.relative_to(APP.parent)}:{number}: {line.strip()}"
        for path in sorted(APP.rglob("*"))
        if path.is_file() and path.suffix in {".py", ".html", ".txt", ".js", ".css"}
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if host_words.search(line)
    ]
    assert found == []


def test_the_app_speaks_no_hosts_words_in_its_code_templates_or_messages() -> None:
    """Not DialogForm's words either: chats, flows and participants are one host's, not the app's (its
    migrations keep the history of how its tables were named)."""
    import re

    host_words = re.compile(r"\b(chats?|flows?|flowId|participants?|dialogform)\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(APP.parent)}:{number}: {line.strip()}"
        for path in sorted(APP.rglob("*"))
        if path.is_file() and path.suffix in {".py", ".html", ".txt", ".js", ".css"} and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if host_words.search(line)
    ]
    assert found == []
