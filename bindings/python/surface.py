# Prints the FFI surface of the generated Python module `motcua_ffi` (found in the folder
# given as the only argument), one normalized, sorted line per function, method, record,
# enum, error and foreign trait. `cargo xtask bindings --check` diffs it against the
# committed snapshot bindings/ffi-surface.txt.
import enum
import importlib
import inspect
import re
import sys


def annotation(a) -> str:
    if a is inspect.Parameter.empty:
        return "?"
    text = a if isinstance(a, str) else inspect.formatannotation(a)
    return re.sub(r"\b(typing|motcua_ffi)\.", "", text)


def signature(func, skip_first: bool) -> str:
    sig = inspect.signature(func)
    params = list(sig.parameters.values())[1 if skip_first else 0 :]
    args = ", ".join(f"{p.name}: {annotation(p.annotation)}" for p in params)
    ret = annotation(sig.return_annotation) if sig.return_annotation is not inspect.Signature.empty else "None"
    flavour = " async" if inspect.iscoroutinefunction(func) else ""
    return f"({args}) -> {ret}{flavour}"


def fields(cls) -> str:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return ", ".join(f"{p.name}: {annotation(p.annotation)}" if p.annotation is not inspect.Parameter.empty else p.name for p in params)


def nested_classes(cls):
    return [(k, v) for k, v in vars(cls).items() if inspect.isclass(v) and not k.startswith("_")]


def own_methods(cls):
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, classmethod):
            yield name, member.__func__, True
        elif inspect.isfunction(member):
            yield name, member, False


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    module = importlib.import_module("motcua_ffi")
    names = set(module.__all__)
    lines = []
    for name in sorted(names):
        obj = getattr(module, name)
        if name == "InternalError" or name.endswith("Protocol") or (name.endswith("Impl") and name[:-4] in names):
            continue
        if inspect.isfunction(obj):
            lines.append(f"function {name}{signature(obj, False)}")
        elif isinstance(obj, type) and issubclass(obj, enum.Enum):
            lines.append(f"enum {name} {{ {', '.join(obj.__members__)} }}")
        elif hasattr(obj, "_uniffi_clone_handle"):
            lines.append(f"object {name}")
            for meth, func, is_ctor in own_methods(obj):
                kind = "constructor" if is_ctor else "method"
                lines.append(f"{kind} {name}.{meth}{signature(func, True)}")
        elif f"{name}Impl" in names:
            for meth, func, _ in own_methods(obj):
                lines.append(f"trait {name}.{meth}{signature(func, True)}")
        elif nested_classes(obj):
            variants = nested_classes(obj)
            kind = "error" if all(issubclass(v, Exception) for _, v in variants) else "enum"
            shown = [f"{k}({fields(v)})" if fields(v) else k for k, v in variants]
            lines.append(f"{kind} {name} {{ {', '.join(shown)} }}")
        else:
            lines.append(f"record {name} {{ {fields(obj)} }}")
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
