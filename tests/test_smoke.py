def test_school_add_and_list(run_cli):
    assert run_cli("school", "add", "Oakfield Academy").code == 0
    result = run_cli("school", "list")
    assert "Oakfield Academy" in result.out
