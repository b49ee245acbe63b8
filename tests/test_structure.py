"""The real tree keeps issue 17's structure: the layers of DESIGN.md's table (no module imports
a layer above it), no product source file over 400 lines, SQL only in the history layer and
``analytics/``. Each check's own behaviour is tested on made-up trees beside this file."""

from __future__ import annotations

from tools.file_sizes import oversized
from tools.import_graph import all_imports, io_imports, violations
from tools.sql_locations import sql_locations


def test_no_module_imports_a_layer_above_it() -> None:
    assert violations(all_imports()) == []


def test_the_deciding_room_and_the_acting_loop_import_no_io_library() -> None:
    assert io_imports() == []


def test_no_product_source_file_is_over_400_lines() -> None:
    assert oversized() == []


def test_sql_lives_in_the_history_layer_and_analytics_only() -> None:
    assert sql_locations() == []
