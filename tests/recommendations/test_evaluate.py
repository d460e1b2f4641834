"""`shop recommend evaluate` with Spark's ALS: through the command line on synthetic purchases, and the aims on
MovieLens-100K (ALS well above popularity, the served model at least as good as every single recommender)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recommendations import movielens, synthetic
from recommendations.als import factorize
from recommendations.evaluate import evaluate
from recommendations.interactions import write_csv

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]  # Spark, with the stack's jars


def test_the_command_prints_a_table_then_the_figures_and_the_model_beats_buy_again_on_rebuyers(tmp_path):
    purchases = tmp_path / "purchases.csv"
    write_csv(synthetic.purchases(synthetic.Shop(shoppers=1500, items=2000, seed=3)), purchases)

    done = subprocess.run([sys.executable, "-m", "app.cli", "recommend", "evaluate", "--interactions",
                           str(purchases)], check=False, capture_output=True, text=True, timeout=500)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "NDCG@10" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(figures) == ["model", "als", "popularity", "repeat"]
    assert all(list(values) == ["ndcg@10", "recall@10", "recall@20", "map@10", "coverage"]
               for values in figures.values())
    assert figures["model"]["ndcg@10"] >= figures["repeat"]["ndcg@10"]
    assert figures["als"]["ndcg@10"] >= 1.3 * figures["popularity"]["ndcg@10"]


def test_a_file_with_a_bad_line_is_refused_naming_it(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,timestamp\nu1,i1,1700000000\nu1,i2,soon\n")

    done = subprocess.run([sys.executable, "-m", "app.cli", "recommend", "evaluate", "--interactions", str(bad)],
                          check=False, capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert "line 3: timestamp 'soon'" in done.stdout


# On MovieLens nobody rebuys, and the model chosen on validation is ALS with a little popularity: on the test part it
# lands within 0.0003 of ALS alone for every ALS seed tried (7: +0.0016, 1: +0.0001, 2: -0.0002, 3: +0.0002), while ALS
# itself moves by 0.004 from seed to seed. The tolerance (1% of the figure) keeps this test about the aim, not about
# which side of ALS one seed's noise falls.
SAME_AS_BEST = 0.002


def test_on_movielens_als_beats_popularity_and_the_model_matches_the_best(spark):
    evaluation = evaluate(movielens.interactions(), 10, factorize(spark))

    ndcg = {name: figures["ndcg@10"] for name, figures in evaluation.scores.items()}
    assert ndcg["als"] >= 1.3 * ndcg["popularity"]
    assert ndcg["model"] >= max(ndcg["als"], ndcg["popularity"], ndcg["repeat"]) - SAME_AS_BEST
