import datetime as dt

from tests.api.conftest import classic_csv, universe


def test_smoke(live, tmp_path):
    admin = live.client(live.admin_key)
    assert admin.health()["status"] == "ok"
    acct = admin.create_account("alice", deposit="100")
    key = admin.create_api_key("alice", ["read", "upload", "stake"])
    alice = live.client(token=(key["public_id"], key["secret_key"]))
    alice.create_model("alice_m1")
    close = live.clock() + dt.timedelta(hours=1)
    rnd = admin.open_round(ids=universe(), close_time=close.isoformat(), horizon_days=2)
    assert rnd["number"] == 1
    assert alice.get_current_round() == 1
    path = tmp_path / "p.csv"
    path.write_bytes(classic_csv(universe(), 1))
    sub_id = alice.upload_predictions(path, model_id="alice_m1")
    assert sub_id > 0
    print(alice.submissions("alice_m1"))
    print(alice.stake_increase("10", "alice_m1"))
    print(acct)
