"""Every public class, function, method and property says what it does (the API pages of
the documentation site are generated from these docstrings)."""

from __future__ import annotations

import inspect

import sketchbox
import sketchbox.dask
import sketchbox.spark


def _public_members(cls: type) -> list[tuple[str, object]]:
    out = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("sketchbox"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or any(
                name in vars(k) for k in cls.__mro__[: cls.__mro__.index(klass)]
            ):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if callable(value) or isinstance(value, property):
                out.append((f"{cls.__name__}.{name}", value))
    return out


def test_every_public_name_has_a_docstring():
    missing = []
    for name in sketchbox.__all__:
        obj = getattr(sketchbox, name)
        if inspect.isclass(obj):
            if not obj.__doc__:
                missing.append(name)
            missing += [n for n, v in _public_members(obj) if not (v.__doc__ or "").strip()]
        elif callable(obj) and not (obj.__doc__ or "").strip():
            missing.append(name)
    for module in (sketchbox.dask, sketchbox.spark):
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if obj.__module__ == module.__name__ and not (obj.__doc__ or "").strip():
                missing.append(f"{module.__name__}.{name}")
    assert missing == []
