"""Read YAML: one reader for the plan, the NPD field mappings and the published files' notes.

Safe loading only; a key given twice in one mapping is refused (the last would win silently:
``threshold: 10`` then ``threshold: 3`` lowered the disclosure threshold, sixteenth review of
issue 14); text that is not YAML gets a message naming the file, line and column.
"""

from __future__ import annotations

import yaml

from evaluation.exceptions import DataError


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader, refusing a key given twice in one mapping.

    LibYAML's parser where PyYAML has it (its wheels do): the pure-Python one took 60 ms a
    plan, 1.3 s of a build's 21 reports.
    """

    #: The line of the file that the text starts on (front matter starts on the second).
    first_line = 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":   # "<<: *base": the loader merges
                continue                                   # it; a key given after overrides
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:       # the loader refuses it, with its line ("unhashable key")
                continue
            if key in seen:
                first = seen[key] + self.first_line
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first at line {first}); "
                    "give each key once", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str | bytes, source: str, error: type[Exception] = DataError,
              first_line: int = 1):
    r"""Parse YAML text safely; a problem raises ``error`` naming ``source``, line and column.

    Parameters
    ----------
    text : str or bytes
        The YAML.
    source : str
        What to name in a message: the file, or the file and part of it.
    error : exception class
        Raised for text that is not YAML or gives a key twice (default ``DataError``; the
        plan's reader passes ``PlanError``).
    first_line : int
        The line of ``source`` that ``text`` starts on (YAML front matter of a README).

    Examples
    --------
    >>> read_yaml("a: 1\nb: [2, 3]\n", "x.yml")
    {'a': 1, 'b': [2, 3]}
    >>> try:
    ...     read_yaml("a: 1\na: 2\n", "x.yml")
    ... except DataError as err:
    ...     print(str(err)[:83])
    x.yml: not valid YAML at line 2, column 1: key 'a' is given twice (first at line 1)
    """
    loader = _UniqueKeyLoader(text)          # as yaml.load, with the first line set
    loader.first_line = first_line
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = (f" at line {mark.line + first_line}, column {mark.column + 1}" if mark
                 else "")
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise error(f"{source}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()
