"""The layers of QueueChat, checked: `python -m scripts.layout` prints each package with its
layer and exits 1 on an import that runs against the layer order, a module over the size
limit, or a top-level app/ module that is not foundation.

Layers, lowest first; a module imports only its own layer or lower ones, the web side (api,
ws, the factory, cli) and the worker side never import each other, and schemas, services and
workers never touch Flask (no request globals: a service takes its arguments explicitly):

    foundation  app/*.py: settings, database, models, enums, errors, streams, jobs, keys, metrics
    schemas     app/schemas: request and response bodies
    services    app/services: domain steps over explicit arguments
    api         app/api: REST views (parse, call a service, respond) and their HTTP helpers
    workers     workers/: Celery tasks, the model, ingest (same rank as api, other side)
    ws          app/ws: the WebSocket relay
    factory     app/__init__.py: create_app, which registers every blueprint
    cli         app/cli: process entry points (WSGI, command-line tools)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 300


@dataclass(frozen=True)
class Layer:
    name: str
    rank: int
    side: str  # "shared", "web" or "worker"
    description: str


FOUNDATION = Layer("foundation", 0, "shared", "settings, database, models, enums, errors, keys")
LAYERS = {
    "app.schemas": Layer("schemas", 1, "shared", "request and response bodies"),
    "app.services": Layer("services", 2, "shared", "domain steps over explicit arguments"),
    "app.api": Layer("api", 3, "web", "REST views and their HTTP helpers"),
    "workers": Layer("workers", 3, "worker", "Celery tasks, the model, ingest"),
    "app.ws": Layer("ws", 4, "web", "the WebSocket relay"),
    "app.cli": Layer("cli", 6, "web", "process entry points"),
}
FACTORY = Layer("factory", 5, "web", "create_app: registers every blueprint")


FLASK_FREE = {"schemas", "services", "workers"}
FLASK_MODULES = {"flask", "flask_jwt_extended", "flask_sock", "flask_limiter", "werkzeug"}


def layer_of(module: str) -> Layer:
    if module == "app":
        return FACTORY
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return FOUNDATION


def allowed(importer: Layer, imported: Layer) -> bool:
    if imported.rank > importer.rank:
        return False
    return imported.side == "shared" or imported.side == importer.side


def touches_flask(imported: str) -> bool:
    return imported.split(".")[0] in FLASK_MODULES or imported == "app.extensions"


def layer_violations(graph: grimp.ImportGraph) -> list[str]:
    problems = []
    for importer in sorted(graph.modules):
        if importer.split(".")[0] not in ("app", "workers"):
            continue  # a third-party package (the graph includes them)
        high = layer_of(importer)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            external = imported.split(".")[0] not in ("app", "workers")
            if external and not (high.name in FLASK_FREE and touches_flask(imported)):
                continue
            low = layer_of(imported)
            flask_leak = high.name in FLASK_FREE and touches_flask(imported)
            if flask_leak or not allowed(high, low):
                lines = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(str(detail["line_number"]) for detail in lines)
                what = "Flask" if external else f"{imported} ({low.name})"
                problems.append(f"{importer} ({high.name}) imports {what}, line {where}")
    return problems


def size_violations() -> list[str]:
    problems = []
    for package in ("app", "workers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            count = len(path.read_text().splitlines())
            if count > MAX_LINES:
                problems.append(f"{path.relative_to(ROOT)} has {count} lines (at most {MAX_LINES})")
    return problems


def packages(graph: grimp.ImportGraph) -> dict[str, Layer]:
    """Each package (and each foundation module) with its layer, lowest layer first."""
    found: dict[str, Layer] = {}
    for module in graph.modules:
        parts = module.split(".")
        if parts[0] in ("app", "workers"):
            name = ".".join(parts[:2])
            found[name] = layer_of(name)
    return dict(sorted(found.items(), key=lambda item: (item[1].rank, item[0])))


def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph("app", "workers", include_external_packages=True, cache_dir=None)


def check() -> list[str]:
    return layer_violations(import_graph()) + size_violations()


def main() -> int:
    graph = import_graph()
    for name, layer in packages(graph).items():
        print(f"{layer.rank}  {layer.name:<11} {layer.side:<7} {name}")
    problems = layer_violations(graph) + size_violations()
    for problem in problems:
        print(f"layout: {problem}", file=sys.stderr)
    print(
        f"{len(problems)} layout problem(s)"
        if problems
        else "layout: every import follows the layers"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
