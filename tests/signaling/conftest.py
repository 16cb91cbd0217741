import pytest

from tests.live import start_web


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    server = start_web(tmp_path_factory.mktemp("web"))
    yield server
    server.stop()
