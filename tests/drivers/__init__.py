"""Driver tests: the shared conformance suite and one test module per driver."""

import pytest

# conformance.py is not a test module itself; rewrite its asserts for readable failures.
pytest.register_assert_rewrite(f"{__name__}.conformance")
