"""GET /health tells a load balancer whether the database answers."""

from maillist import create_app
from tests.helpers import app_settings


def test_health_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_without_database_is_503(tmp_path):
    url = "mysql+pymysql://maillist:secret-password@127.0.0.1:1/maillist"
    app = create_app(overrides=app_settings(url), instance_path=str(tmp_path))
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert "secret-password" not in body and "127.0.0.1" not in body
