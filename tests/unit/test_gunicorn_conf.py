"""config/gunicorn.conf.py: what the settings file does besides setting values."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_out_of_the_collectors_reach() -> None:
    settings = runpy.run_path(str(CONF))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 10_000  # the app's modules, mappers, templates
        gc.collect()  # a full collection no longer walks them
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
