def test_smoke(season):
    napi = season.classic("alice")
    print(napi.get_current_round(), season.current)
    print(napi.get_account())
    print(napi.get_models())
