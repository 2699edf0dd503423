from tests.factories import login, make_user


def test_an_id_beyond_the_database_integer_range_is_not_found_not_a_server_error(client):
    user = make_user()
    login(client, user)
    for url in ("/jobs/2147483648", "/jobs/99999999999999999999", "/profile/tokens/2147483648/revoke"):
        method = client.post if url.endswith("revoke") else client.get
        assert method(url).status_code == 404, url


def test_the_largest_database_integer_still_routes(client):
    user = make_user()
    login(client, user)
    # routed to the view, which answers 404 because no such job exists (not a routing miss)
    response = client.get("/jobs/2147483647")
    assert response.status_code == 404
    assert b"Not found" in response.data or b"not exist" in response.data
