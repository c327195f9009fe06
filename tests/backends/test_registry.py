"""Model strings and backend options: an option a backend does not take is an error."""

import pytest

from subrational.backends.registry import create_backend
from subrational.cli import main
from subrational.errors import ConfigError


def test_an_option_the_backend_does_not_take_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match="the scripted backend takes no --base-url"):
        create_backend("scripted:uniform", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="takes no --dtype"):
        create_backend("openai:m", dtype="float32", base_url="http://127.0.0.1:9/v1")


def test_shared_settings_reach_only_the_backends_that_use_them():
    backend = create_backend("scripted:uniform", shared={"batch_size": 3, "timeout": 5.0,
                                                         "offline": True})
    assert backend.batch_size == 3


@pytest.mark.parametrize("flag", [["--base-url", "http://127.0.0.1:9/v1"], ["--timeout", "5"]])
def test_the_cli_refuses_a_flag_the_embedded_model_cannot_use(flag, tmp_path, capsys):
    code = main(["run", "ultimatum", "--persona", "fair", "--out", str(tmp_path / "r"), *flag])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "transformers backend takes no" in err[0]
