import os

import numpy as np
import pytest

import weft

# Sizes around the partition and block boundaries (WEFT_SUM_BLOCK is 4096).
EDGE_SIZES = [0, 1, 2, 7, 4095, 4096, 4097, 100_003]


@pytest.fixture(scope="session")
def ctx():
    return weft.get_context()


@pytest.fixture
def rng():
    return np.random.default_rng(24)


def pytest_report_header(config):
    ctx = weft.get_context()
    names = [d["name"] for d in ctx.devices() if d["selected"]]
    vendors = os.environ.get("OCL_ICD_VENDORS", "(default)")
    return f"weft {weft.__version__}: OCL_ICD_VENDORS={vendors}, selected devices: {names}"
