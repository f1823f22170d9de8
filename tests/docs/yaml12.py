"""Read YAML the way Tessera and yaml-language-server do (YAML 1.2 core
schema), with PyYAML, which otherwise reads YAML 1.1: there `on:` is the
key True and `2026-06-01` a date, where Tessera reads the text "on" and a
string.  Mapping keys are kept as their text, as Tessera keeps them.

Used by the documentation tools of tests/docs/ (test tools, not shipped).
"""
import re

import yaml


class Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types."""


# Start from no implicit resolvers at all, then add the 1.2 core ones.
Loader.yaml_implicit_resolvers = {}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""])


def _bool(loader, node):
    return node.value.lower() == "true"


def _int(loader, node):
    return int(node.value, 0) if node.value[:2] in ("0o", "0x") else int(node.value)


Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
Loader.add_constructor("tag:yaml.org,2002:int", _int)


def _mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    out = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else \
            loader.construct_object(key_node, deep=deep)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


def load(text):
    """The document in `text`, YAML 1.2 core schema, keys as text."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)
