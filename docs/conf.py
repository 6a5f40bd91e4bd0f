"""Sphinx configuration: the API pages come from the package's docstrings (autodoc), the
guides from the README's sections (MyST includes), so that neither is written twice.
CI builds it with warnings as errors: sphinx-build -W -b html docs docs/_build/html."""

import sketchbox

project = "sketchbox"
release = version = sketchbox.__version__
copyright = "the sketchbox authors, Apache-2.0"
extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "inherited-members": True, "show-inheritance": False}
myst_heading_anchors = 3
html_theme = "alabaster"
html_static_path: list[str] = []
