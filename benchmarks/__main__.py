"""Run every benchmark module in this package that defines ``main()``."""

import importlib
import pkgutil

import benchmarks

for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
    if module.startswith("_"):
        continue
    loaded = importlib.import_module(f"benchmarks.{module}")
    if hasattr(loaded, "main"):
        print(f"== {module}", flush=True)
        loaded.main()
