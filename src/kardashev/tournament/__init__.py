"""Tournament engine: rounds, submissions, stakes, scoring, payouts, leaderboard and grades."""
