def test_home_page_lists_the_essay(client, essay):
    response = client.get("/")
    assert response.status_code == 200
    assert "Anatomy of the Sect" in response.content.decode()
