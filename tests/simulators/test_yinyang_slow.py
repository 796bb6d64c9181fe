"""The default Yin-Yang configuration trained to the end of its schedule (slow:
about 7 minutes on an idle 2-core machine; run with ``python -m pytest -m slow``)."""
from __future__ import annotations

import pytest

from genn_eventprop.simulators.yinyang import YinYangModel, p as default_p


@pytest.mark.slow
def test_default_configuration_reaches_high_accuracy(tmp_path):
    p = dict(default_p, OUT_DIR=str(tmp_path), PROGRESS=False, SEED=3)
    res = YinYangModel(p).train_test(p)
    assert res.test_accuracy >= 0.965   # 97.3 % measured (seed 3)
    assert res.tape_overflow == 0
