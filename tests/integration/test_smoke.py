def test_the_session_server_answers(client):
    response = client.rerank("what is a panda?", ["hi", "The giant panda is a bear."])
    assert response.model == "tiny-gemma"
    assert sorted(r.index for r in response.results) == [0, 1]
