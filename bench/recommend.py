"""Recommendations: training time and quality of our ALS (Spark MLlib, implicit) against the `implicit` library on the
same synthetic purchases, same run; and serving, `GET /v1/recommendations` against the same stored list read straight
from Cassandra.

    .venv/bin/python -m bench.recommend [--interactions 1000000] [--rank 48] [--iterations 12]
                                        [--only training|serving] [--shoppers 2000] [--seconds 15] [--clients 1 ...]

Training: `recommendations.synthetic.purchases` with about `--interactions` lines (Zipf-like item popularity, shoppers
with a few favourite categories, staples rebought, baskets sharing a timestamp), split as `shop recommend evaluate`
splits (each shopper's latest 20% held out). Both libraries get the same confidences (log(1 + summed weight) per
shopper and item, alpha 2 as the model's defaults), the same rank and iterations, on the machine's two cores (Spark `local[2]`; implicit's
OpenMP threads = cores). Regularisation differs in kind: Spark multiplies `regParam` by each user's and item's count
of interactions, implicit does not, so implicit gets `--implicit-reg` (its own default scale). Times: the fit alone
(both from data in memory: Spark's DataFrame cached and counted first, implicit's CSR matrix built first) and each
one's data preparation apart. Quality: NDCG@10 and recall@10 of each one's factors scored the same way (`als`
recommender: past items left out). Serving: a trained model of the local stack's lake is not needed; the benchmark
writes a model version of its own (random factors for `--shoppers` shoppers, lists of 50 items of a catalog of live
items with stock) into a keyspace of its own, starts `shop serve` on it, and asks for random shoppers' lists
(`limit=10`) in a closed loop at each `--clients`; the direct baseline sends the same `rec_for_user` read (prepared,
over the driver) at the same concurrency. Removes what it made."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import psutil

from bench.harness import api_server, closed_loop, cpu_figures, cpu_spent, report, stack_pids
from infra.settings import get_settings
from recommendations import metrics, synthetic
from recommendations.interactions import preferences
from recommendations.metrics import HeldOut
from recommendations.recommenders import Factors, Signals, als, recommend
from recommendations.split import train_test


# --- training ---
def data(count: int):
    shoppers = max(100, count // 32)  # about 8 baskets of 4 lines each
    shop = synthetic.Shop(shoppers=shoppers, items=max(1000, shoppers * 2 // 3), categories=100, seed=11)
    interactions = synthetic.purchases(shop)
    return train_test(interactions)


def spark_fit(train, rank: int, iterations: int, reg: float, alpha: float) -> tuple[Factors, dict]:
    from recommendations.als import AlsParams, als_spark, confidences
    from recommendations.als import train as fit

    spark = als_spark(get_settings(), "bench-recommend")
    try:
        began = time.monotonic()
        frame = confidences(spark, train).cache()
        rows = frame.count()
        prepared = time.monotonic() - began
        jvm = next(child.pid for child in psutil.Process().children(recursive=True)
                   if "java" in child.name())
        with cpu_spent({"Spark JVM": jvm, "driver (Python)": os.getpid()}) as spent:
            began = time.monotonic()
            factors = fit(frame, AlsParams(rank=rank, reg=reg, alpha=alpha, iterations=iterations),
                          len(train.user_ids), len(train.item_ids))
            seconds = time.monotonic() - began
        return factors, {"pairs": rows, "s preparing (DataFrame of confidences, cached)": prepared,
                         "s fitting (ALS.fit + factors collected)": seconds, **{f"CPU s: {k}": v for k, v in
                                                                               spent.items() if k != "machine"}}
    finally:
        spark.stop()


def implicit_fit(train, rank: int, iterations: int, reg: float, alpha: float) -> tuple[Factors, dict]:
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix

    began = time.monotonic()
    had = preferences(train)
    matrix = csr_matrix((np.log1p(had.strength).astype(np.float32), (had.users, had.items)),
                        shape=(len(train.user_ids), len(train.item_ids)))
    prepared = time.monotonic() - began
    model = AlternatingLeastSquares(factors=rank, regularization=reg, alpha=alpha, iterations=iterations,
                                    random_state=7, num_threads=os.cpu_count() or 2, calculate_training_loss=False)
    from threadpoolctl import threadpool_limits

    with cpu_spent({"benchmark (implicit)": os.getpid()}) as spent, threadpool_limits(1, "blas"):
        began = time.monotonic()  # implicit's own threads, BLAS single-threaded inside them (as it asks)
        model.fit(matrix, show_progress=False)
        seconds = time.monotonic() - began
    return (Factors(np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)),
            {"pairs": matrix.nnz, "s preparing (CSR matrix)": prepared, "s fitting (model.fit)": seconds,
             **{f"CPU s: {k}": v for k, v in spent.items() if k != "machine"}})


def quality(train, test, factors: Factors) -> dict:
    held_out = HeldOut.of(test.users, test.items, len(train.item_ids))
    lists = recommend(als, Signals.of(train, factors), held_out.users, 20)
    figures = metrics.scores(lists, held_out, 10)
    return {"NDCG@10": figures["ndcg@10"], "recall@10": figures["recall@10"], "coverage": figures["coverage"]}


def training(args) -> None:
    began = time.monotonic()
    train, test = data(args.interactions)
    report("synthetic purchases", {"interactions": len(train) + len(test), "training part": len(train),
                                   "held out": len(test), "shoppers": len(train.user_ids),
                                   "items": len(train.item_ids), "s generating": time.monotonic() - began})
    ours, ours_figures = spark_fit(train, args.rank, args.iterations, args.reg, args.alpha)
    ours_figures.update(quality(train, test, ours))
    report(f"Spark MLlib ALS (implicitPrefs), rank {args.rank}, {args.iterations} iterations, regParam {args.reg}, "
           f"alpha {args.alpha}", ours_figures)
    theirs, theirs_figures = implicit_fit(train, args.rank, args.iterations, args.implicit_reg, args.alpha)
    theirs_figures.update(quality(train, test, theirs))
    report(f"implicit 0.7.3 AlternatingLeastSquares (CPU), rank {args.rank}, {args.iterations} iterations, "
           f"regularization {args.implicit_reg}, alpha {args.alpha}", theirs_figures)
    fit = next(key for key in ours_figures if key.startswith("s fitting"))
    their_fit = next(key for key in theirs_figures if key.startswith("s fitting"))
    report("Spark / implicit", {
        "fit time ratio": ours_figures[fit] / theirs_figures[their_fit],
        "NDCG@10 ratio (aim >= 0.95)": ours_figures["NDCG@10"] / theirs_figures["NDCG@10"],
        "recall@10 ratio": ours_figures["recall@10"] / theirs_figures["recall@10"]})


# --- serving ---
async def serving(args) -> None:
    from app.bootstrap import migrate_cassandra
    from app.builder import open_stores
    from bench.checkout_data import buyers, fastest_warehouse, remove_run, stocked_items
    from infra import connections
    from infra.cassandra_async import answer
    from recommendations.store import READS, ModelVersion, ModelWriter

    settings = get_settings()
    prefix, keyspace = f"bench-rec-{uuid.uuid4().hex[:8]}", f"bench_rec_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(migrate_cassandra, settings, keyspace)
    cluster = connections.cassandra(settings)
    session = await asyncio.to_thread(cluster.connect)
    async with open_stores(settings) as stores:
        warehouse = await fastest_warehouse(stores.serviceability)
        shoppers = await buyers(stores.users, settings.jwt_secret.get_secret_value(), prefix, args.shoppers)
        items = await stocked_items(stores, prefix, 1000, 1000, warehouse)
        try:
            rank, rng = 32, np.random.default_rng(5)
            factors = rng.normal(size=(len(items), rank)).astype(np.float32)
            now = datetime.now(UTC)
            version = ModelVersion(int(now.timestamp() * 1000), now, now, {
                "als": {"rank": rank, "reg": 0.05, "alpha": 10.0, "iterations": 1, "seed": 1, "blocks": 1},
                "blend": {"als": 1, "repeat": 0, "popularity": 0.1, "rebuy": False}}, frozenset(), 4,
                (factors.T @ factors).astype(np.float32))
            writer = ModelWriter(session, keyspace)

            def lists():
                for user_id, _ in shoppers:
                    picked = rng.choice(len(items), 50, replace=False)
                    yield user_id, "", [{"item_id": items[i], "score": float(50 - n), "category": "kitchen",
                                         "reason": "popular this week"} for n, i in enumerate(picked)]

            await asyncio.to_thread(writer.begin, version, len(shoppers), len(items))
            await asyncio.to_thread(writer.for_users, version.version, lists())
            await asyncio.to_thread(writer.item_factors, version,
                                    [(item, "kitchen", 1.0, factors[n]) for n, item in enumerate(items)])
            await asyncio.to_thread(writer.switch, version.version)
            await measure(settings, keyspace, session, shoppers, version.version, args, READS, answer)
        finally:
            report("removed", await remove_run(stores, [user for user, _ in shoppers], items))
            await asyncio.to_thread(session.execute, f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
            cluster.shutdown()


async def measure(settings, keyspace, session, shoppers, version: int, args, reads, answer) -> None:
    import aiohttp
    from cassandra.cluster import EXEC_PROFILE_DEFAULT
    from cassandra.query import tuple_factory

    statement = await asyncio.to_thread(session.prepare, reads["for_user"].replace("{ks}", keyspace))
    tuples = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=tuple_factory)
    stack = {name: pid for name, pid in stack_pids(settings).items() if name in ("cassandra", "mysql", "mongodb")}
    results = {}
    with api_server(settings, {"SHOP_CASSANDRA_KEYSPACE": keyspace}) as (base_url, api_pid):
        async with aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=max(args.clients))) as http:
            async def through_api(client: int) -> bool:
                _, token = random.choice(shoppers)
                async with http.get("/v1/recommendations", params={"limit": "10"},
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                    body = await response.json()
                    return response.status == 200 and len(body["items"]) == 10

            async def direct(client: int) -> bool:
                user_id, _ = random.choice(shoppers)
                rows = await answer(session.execute_async(statement, (user_id, version, ""), execution_profile=tuples))
                return len(json.loads(next(iter(rows))[0])) == 50

            for clients in args.clients:
                for name, attempt in (("API", through_api), ("direct", direct)):
                    await closed_loop(clients, 3, attempt)
                    pids = ({"API server": api_pid} if name == "API" else {}) | {"benchmark client": os.getpid(),
                                                                                   **stack}
                    with cpu_spent(pids) as spent:
                        figures = await closed_loop(clients, args.seconds, attempt)
                    figures.update(cpu_figures(spent, max(figures["ok"], 1), "request", figures["seconds"]))
                    results[name, clients] = figures
                    report(f"{'GET /v1/recommendations?limit=10' if name == 'API' else 'direct: rec_for_user read'}"
                           f", {clients} concurrent clients", figures)
    for clients in args.clients:
        api, direct_ = results["API", clients], results["direct", clients]
        report(f"ratio API / direct, {clients} clients", {"p50": api["p50_ms"] / direct_["p50_ms"],
                                                         "p99 (aim <= 1.5)": api["p99_ms"] / direct_["p99_ms"]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--rank", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--reg", type=float, default=0.1, help="Spark's regParam (scaled by counts)")
    parser.add_argument("--implicit-reg", type=float, default=0.01, help="implicit's regularization")
    parser.add_argument("--alpha", type=float, default=2.0)
    parser.add_argument("--only", choices=["training", "serving"])
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, action="append")
    args = parser.parse_args()
    args.clients = args.clients or [1, 16]
    if args.only in (None, "training"):
        training(args)
    if args.only in (None, "serving"):
        asyncio.run(serving(args))


if __name__ == "__main__":
    main()
