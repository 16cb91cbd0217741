from praatbox.rooms.passwords import hash_password, password_matches


def test_password_hash_is_salted_and_checks():
    first, second = hash_password("kamille"), hash_password("kamille")
    assert first != second
    assert b"kamille" not in first
    assert password_matches("kamille", first)
    assert not password_matches("kamille ", first)
