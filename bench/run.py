"""Throughput, latency, peak memory and model FLOP utilization of four ways to
score (query, document) pairs with bge-reranker-v2-gemma's architecture, and
three with bge-reranker-v2-m3's (a cross-encoder), on the same machine and pairs:

  a  seed     the model card's code (bench/system_seed.py)
  b  flag     FlagEmbedding's FlagLLMReranker at its best probed batch size
  c  ours     this project's scorer and batcher in-process
  d  grpc     the server through gRPC with 1, 4, 16 concurrent clients
  e  ce-ours  ours in-process on the cross-encoder
  f  ce-flag  FlagEmbedding's FlagReranker on the cross-encoder, best probed batch size
  g  ce-grpc  the server serving the cross-encoder (--model m3=DIR), 1 client

Each system runs in a fresh subprocess per model, so its peak RSS is its own.
Two random Gemmas are built: one with a 32,000-token vocabulary for throughput
and one with Gemma's 256,000 for memory; and one random XLM-RoBERTa sequence
classifier with m3's 250,002 tokens, for both (an encoder's vocabulary costs
memory, never FLOPs). Writes OUT/latest.json and OUT/latest.png and prints
markdown tables. Run bench/setup.sh once first.

    .venv/bin/python -m bench.run --quick           # smoke run, a few minutes
    .venv/bin/python -m bench.run                   # the full run (quiet machine)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import workload
from .flops import matmul_flops_per_second, workload_flops

ROOT = Path(__file__).resolve().parent.parent
FLAG_PYTHON = ROOT / "bench" / ".venv-flag" / "bin" / "python"
SYSTEMS = {"a": "seed", "b": "flag", "c": "ours", "d": "grpc", "e": "ce-ours", "f": "ce-flag", "g": "ce-grpc"}
CROSS_ENCODER_PREFIX = "ce-"
LABELS = {"seed": "model card code", "flag": "FlagEmbedding", "ours": "ours, in-process", "grpc": "ours, gRPC"}
CE_LABELS = {"ours": "ours, cross-encoder", "flag": "FlagEmbedding FlagReranker (cross-encoder)",
             "grpc": "ours, gRPC, cross-encoder"}
GIB = 1024**3

# bge-reranker-v2-gemma (gemma-2b) scaled down for a 2-core CPU, keeping the
# shape that matters: 18 layers, MQA (1 KV head), an MLP 8x the hidden size,
# and an LM head that is about a fifth of the FLOPs of a full-logits pass.
MODEL = dict(hidden_size=256, intermediate_size=2048, num_hidden_layers=18, num_attention_heads=4, num_key_value_heads=1)
THROUGHPUT_VOCAB = 32_000
MEMORY_VOCAB = 256_000

# bge-reranker-v2-m3 (XLM-RoBERTa-large: hidden 1024, MLP 4096, 24 layers, 16
# heads) scaled down at the Gemma's width, with the depth that keeps the cost
# ratio: on this workload a real m3 pair takes about 7.5x fewer FLOPs than a real
# gemma pair, and 6 layers of this make it 7.2x fewer than a pair of MODEL.
CROSS_ENCODER = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=6, num_attention_heads=4)
CROSS_ENCODER_VOCAB = 250_002
CROSS_ENCODER_KIND = "cross-encoder"
CROSS_ENCODER_SERVED_NAME = "m3"


@dataclass(frozen=True)
class Plan:
    pairs: int
    memory_pairs: int
    layers: int
    clients: str
    seed_batch_size: int
    flag_batch_sizes: str
    memory_batch_size: int
    probe_pairs: int
    ce_layers: int
    ce_flag_batch_sizes: str
    ce_probe_pairs: int


# Sized for 2 busy cores: the full run takes about 20 minutes there (see docs/benchmark.md).
# The cross-encoder rows add an estimated 3-4 minutes to it.
FULL = Plan(pairs=160, memory_pairs=24, layers=18, clients="1,4,16", seed_batch_size=16,
            flag_batch_sizes="4,8,16", memory_batch_size=4, probe_pairs=32,
            ce_layers=CROSS_ENCODER["num_hidden_layers"], ce_flag_batch_sizes="8,32,128", ce_probe_pairs=64)
QUICK = Plan(pairs=24, memory_pairs=6, layers=2, clients="1,4,16", seed_batch_size=16,
             flag_batch_sizes="8", memory_batch_size=4, probe_pairs=8,
             ce_layers=1, ce_flag_batch_sizes="32", ce_probe_pairs=8)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK.pairs} pairs, {QUICK.layers} layers")
    parser.add_argument("--pairs", type=int, help=f"pairs for throughput (default {FULL.pairs}; quick {QUICK.pairs})")
    parser.add_argument("--memory-pairs", type=int, help="pairs for the 256k-vocabulary memory runs")
    parser.add_argument("--layers", type=int, help=f"Gemma layers (default {FULL.layers}; quick {QUICK.layers})")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="any of a/seed, b/flag, c/ours, d/grpc (Gemma) and e/ce-ours, f/ce-flag, g/ce-grpc "
                        "(cross-encoder); default all")
    parser.add_argument("--clients", help="gRPC concurrency levels (default 1,4,16)")
    parser.add_argument("--seed-batch-size", type=int, help="fixed batch size of the card's code (default 16)")
    parser.add_argument("--flag-batch-sizes", help=f"FlagEmbedding batch sizes to probe (default {FULL.flag_batch_sizes})")
    parser.add_argument("--memory-batch-size", type=int,
                        help="largest batch for the card's code and FlagEmbedding on the 256k model (default 4): "
                        "their full logits take about 1 MB per padded token there")
    parser.add_argument("--max-length", type=int, default=1024, help="max_length of the Gemma systems")
    parser.add_argument("--ce-layers", type=int,
                        help=f"cross-encoder layers (default {FULL.ce_layers}; quick {QUICK.ce_layers})")
    parser.add_argument("--ce-max-length", type=int, default=512, help="max_length of the cross-encoder systems")
    parser.add_argument("--ce-flag-batch-sizes",
                        help=f"FlagReranker batch sizes to probe (default {FULL.ce_flag_batch_sizes})")
    parser.add_argument("--threads", type=int, default=0, help="torch threads in every system (0: torch's default)")
    parser.add_argument("--memory-limit-gib", type=float, default=12.0,
                        help="a system whose process tree passes this resident size is stopped and reported")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one system run may take")
    parser.add_argument("--study", action="store_true",
                        help="also time variants of our scorer: threads, attention, token budget")
    parser.add_argument("--seed", type=int, default=0, help="workload seed")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where latest.json/png go")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    for name in ("pairs", "memory_pairs", "layers", "clients", "seed_batch_size", "flag_batch_sizes", "memory_batch_size",
                 "ce_layers", "ce_flag_batch_sizes"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(plan, name))
    args.probe_pairs = min(plan.probe_pairs, args.pairs)
    args.ce_probe_pairs = min(plan.ce_probe_pairs, args.pairs)
    args.systems = [SYSTEMS.get(s.strip(), s.strip()) for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems) - set(SYSTEMS.values())
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}: use {','.join(SYSTEMS)} or {','.join(SYSTEMS.values())}")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- subprocesses


def run_system(module: str, python: Path, model: Path, requests_file: Path, result: Path, extra: list[str],
               args: argparse.Namespace, max_length: int | None = None) -> dict:
    """Runs `python -m bench.<module>` and returns its JSON, or {"error": ...}
    when it failed, passed the memory limit or the timeout. max_length defaults
    to the Gemma systems' --max-length."""
    import psutil

    command = [str(python), "-m", f"bench.{module}", "--model", str(model), "--workload", str(requests_file),
               "--result", str(result), "--max-length", str(max_length or args.max_length),
               "--threads", str(args.threads), *extra]
    log_file = result.with_suffix(".log")
    started = time.perf_counter()
    with log_file.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        watched = psutil.Process(process.pid)
        tree_peak, error = 0, None
        while process.poll() is None:
            try:
                tree = [watched, *watched.children(recursive=True)]
                tree_rss = sum(p.memory_info().rss for p in tree)
            except psutil.Error:
                tree_rss = 0
            tree_peak = max(tree_peak, tree_rss)
            if tree_rss > args.memory_limit_gib * GIB:
                error = f"stopped: its processes' resident memory passed --memory-limit-gib {args.memory_limit_gib:g}"
            elif time.perf_counter() - started > args.timeout:
                error = f"stopped: it ran longer than --timeout {args.timeout:g} s"
            if error:
                for p in reversed(tree):
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                process.wait()
                break
            time.sleep(0.1)
    wall = time.perf_counter() - started
    if error is None and process.returncode != 0:
        tail = log_file.read_text()[-1500:]
        error = f"exited with {process.returncode}; log tail: {tail}"
    if error is not None:
        log(f"{module} failed: ...{error[-400:]}")
        return {"error": error, "observed_tree_peak_rss_bytes": tree_peak, "wall_seconds": wall, "log": str(log_file)}
    data = json.loads(result.read_text())
    data["wall_seconds"] = wall
    data["log"] = str(log_file)
    return data


def build_models(directory: Path, layers: int) -> dict[str, Path]:
    from rerank_server.testing.tiny_model import build_tiny_gemma

    models = {}
    for name, vocab in (("throughput", THROUGHPUT_VOCAB), ("memory", MEMORY_VOCAB)):
        models[name] = build_tiny_gemma(directory / f"gemma-{name}", **{**MODEL, "num_hidden_layers": layers},
                                        vocab_size=vocab)
    return models


def build_cross_encoder(directory: Path, layers: int) -> Path:
    """A random XLMRobertaForSequenceClassification with CROSS_ENCODER's shape and
    m3's vocabulary (its embedding costs memory only)."""
    from rerank_server.testing.tiny_model import build_tiny_xlm_roberta

    return build_tiny_xlm_roberta(
        directory, **{**CROSS_ENCODER, "num_hidden_layers": layers}, vocab_size=CROSS_ENCODER_VOCAB
    )


def pair_lengths(model_dir: Path, requests: list[dict], max_length: int, kind: str = "llm-yes-logit") -> list[int]:
    """Token count of every pair as the server lays it out (for the gRPC FLOPs)."""
    from transformers import AutoTokenizer

    from rerank_server.scoring.cross_encoder import PairTemplate
    from rerank_server.scoring.prompt import (DEFAULT_PROMPT, PASSAGE_PREFIX, QUERY_PREFIX, SEPARATOR,
                                              PromptSuffix, build_pair_ids)

    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def plain(texts):
        return tokenizer(texts, add_special_tokens=False)["input_ids"]

    if kind == CROSS_ENCODER_KIND:
        template = PairTemplate.of(tokenizer)
        query_prefix = passage_prefix = ""

        def join(query_ids, passage_ids):
            return template.join(query_ids, passage_ids, max_length)
    else:
        suffix = PromptSuffix(tuple(plain(SEPARATOR)), tuple(plain(DEFAULT_PROMPT)))
        query_prefix, passage_prefix = QUERY_PREFIX, PASSAGE_PREFIX

        def join(query_ids, passage_ids):
            return build_pair_ids(tokenizer.bos_token_id, query_ids, passage_ids, suffix, max_length)

    lengths = []
    for request in requests:
        query_ids = plain(query_prefix + request["query"])
        for passage_ids in plain([passage_prefix + d for d in request["documents"]]):
            lengths.append(len(join(query_ids, passage_ids)))
    return lengths


def head_of(requests: list[dict], pairs: int) -> list[dict]:
    """The first `pairs` pairs of the workload, still grouped by query."""
    out, remaining = [], pairs
    for request in requests:
        if remaining <= 0:
            break
        out.append({"query": request["query"], "documents": request["documents"][:remaining]})
        remaining -= len(out[-1]["documents"])
    return out


# ---------------------------------------------------------------- analysis


def summarize(result: dict, config, peak_flops: float) -> dict:
    """Adds pairs/s, token counts, padding overhead and MFU to one measurement."""
    if "error" in result:
        return result
    lengths = result.pop("lengths", None)
    if lengths is not None:
        result["real_tokens"] = sum(lengths)
        result["mean_pair_tokens"] = sum(lengths) / len(lengths)
        flops = workload_flops(config, lengths, result["full_lm_head"])
        result["model_flops"] = flops
        result["achieved_flops_per_s"] = flops / result["seconds"]
        result["mfu"] = result["achieved_flops_per_s"] / peak_flops
        if result.get("padded_tokens"):
            result["padding_overhead"] = result["padded_tokens"] / result["real_tokens"] - 1
    if "seconds" in result:
        result["pairs_per_s"] = result["pairs"] / result["seconds"]
    return result


def summarize_grpc(result: dict, config, peak_flops: float, lengths: list[int]) -> dict:
    if "error" in result:
        return result
    flops = workload_flops(config, lengths, False)
    for level in result["levels"]:
        latencies = sorted(level["latencies_s"])
        level["pairs_per_s"] = level["pairs"] / level["seconds"]
        # Each client sends whole requests, so no more than this many are ever in flight.
        level["max_in_flight"] = min(level["clients"], level["requests"])
        level["mfu"] = flops / level["seconds"] / peak_flops
        for q in (50, 95, 99):
            level[f"p{q}_ms"] = 1000 * percentile(latencies, q)
    return result


def percentile(ordered: list[float], q: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def parity(results: dict, reference: str = "ours") -> dict:
    """Largest score difference of each system from ours on the same pairs."""
    ref = results.get(reference, {})
    if "scores_file" not in ref:
        return {}
    ref_scores = json.loads(Path(ref["scores_file"]).read_text())
    out = {}
    for name, result in results.items():
        if name == reference or "scores_file" not in result:
            continue
        scores = json.loads(Path(result["scores_file"]).read_text())
        if len(scores) != len(ref_scores):
            continue
        out[name] = max(abs(a - b) for a, b in zip(scores, ref_scores))
    return out


def targets(results: dict, memory: dict) -> list[dict]:
    def rate(name):
        r = results.get(name, {})
        return r.get("pairs_per_s")

    def peak(name):
        r = memory.get(name, {})
        return r.get("peak_rss_bytes"), "error" in r

    out = []
    ours, seed, flag = rate("ours"), rate("seed"), rate("flag")

    def check(name, value, goal, reached, note=""):
        out.append({"target": name, "value": value, "goal": goal, "reached": reached, "note": note})

    check("in-process throughput >= 2x FlagEmbedding", ours / flag if ours and flag else None, 2.0,
          (ours / flag >= 2.0) if ours and flag else None)
    check("in-process throughput >= 10x the card's code", ours / seed if ours and seed else None, 10.0,
          (ours / seed >= 10.0) if ours and seed else None)
    ours_mem, _ = peak("ours")
    flag_mem, flag_failed = peak("flag")
    if ours_mem and flag_mem:
        check("peak memory <= 1/4 of FlagEmbedding's (256k vocabulary)", ours_mem / flag_mem, 0.25,
              ours_mem / flag_mem <= 0.25)
    elif ours_mem and flag_failed:
        bound = memory["flag"].get("observed_tree_peak_rss_bytes", 0)
        check("peak memory <= 1/4 of FlagEmbedding's (256k vocabulary)", ours_mem / bound if bound else None, 0.25,
              (ours_mem / bound <= 0.25) if bound else None,
              "FlagEmbedding was stopped at the memory limit; its peak is at least the figure used")
    else:
        check("peak memory <= 1/4 of FlagEmbedding's (256k vocabulary)", None, 0.25, None)
    grpc = results.get("grpc", {})
    level16 = next((lv for lv in grpc.get("levels", []) if lv["clients"] == 16), None)
    check("gRPC at 16 clients within 10% of in-process", level16["pairs_per_s"] / ours if level16 and ours else None,
          0.9, (level16["pairs_per_s"] / ours >= 0.9) if level16 and ours else None)
    mfu = results.get("ours", {}).get("mfu")
    check("MFU >= 60% (ours, in-process)", mfu, 0.6, (mfu >= 0.6) if mfu is not None else None)
    return out


# ---------------------------------------------------------------- output


def short_error(result: dict) -> str:
    lines = result["error"].strip().splitlines()
    return (lines[-1] if lines else "")[:120].replace("|", "/")


def ratio(value, base) -> str:
    return f"{value / base:.1f}x" if value and base else "n/a"


def gib(value) -> str:
    return f"{value / GIB:.2f} GiB" if value else "n/a"


def markdown(report: dict) -> str:
    results, memory = report["throughput"], report["memory"]
    seed = results.get("seed", {}).get("pairs_per_s")
    flag = results.get("flag", {}).get("pairs_per_s")

    def mem(name):
        r = memory.get(name, {})
        if "error" in r:
            return f"> {gib(r.get('observed_tree_peak_rss_bytes'))} (stopped)"
        return gib(r.get("peak_rss_bytes"))

    def mem_32k(name):
        r = results.get(name, {})
        return "stopped" if "error" in r else gib(r.get("peak_rss_bytes"))

    rows = ["| system | batching | pairs/s | vs card code | vs FlagEmbedding | MFU | padding | peak RSS, 32k vocab | "
            "peak RSS, 256k vocab | latency p50 / p95 / p99 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in ("seed", "flag", "ours"):
        r = results.get(name)
        if r is None:
            continue
        if "error" in r:
            rows.append(f"| {LABELS[name]} | | failed: {short_error(r)} | | | | | | {mem(name)} | |")
            continue
        batching = {"seed": f"{r.get('batch_size')} pairs, given order", "flag": f"{r.get('batch_size')} pairs, sorted",
                    "ours": f"<= {r.get('max_batch_tokens')} tokens, <= {r.get('max_batch_pairs')} pairs"}[name]
        rows.append(
            f"| {LABELS[name]} | {batching} | {r['pairs_per_s']:.1f} | {ratio(r['pairs_per_s'], seed)} | "
            f"{ratio(r['pairs_per_s'], flag)} | {r['mfu']:.0%} | {r.get('padding_overhead', 0):.0%} | "
            f"{mem_32k(name)} | {mem(name)} | |"
        )
    grpc = results.get("grpc")
    if grpc is not None:
        if "error" in grpc:
            rows.append(f"| {LABELS['grpc']} | | failed: {short_error(grpc)} | | | | | | | |")
        for level in grpc.get("levels", []):
            rows.append(
                f"| {LABELS['grpc']}, {level['clients']} client{'s' if level['clients'] > 1 else ''} | server default | "
                f"{level['pairs_per_s']:.1f} | {ratio(level['pairs_per_s'], seed)} | {ratio(level['pairs_per_s'], flag)} | "
                f"{level['mfu']:.0%} | | {mem_32k('grpc')} | {mem('grpc')} | "
                f"{level['p50_ms']:.0f} / {level['p95_ms']:.0f} / {level['p99_ms']:.0f} ms"
                f"{' (' + str(level['max_in_flight']) + ' in flight at most)' if level['max_in_flight'] < level['clients'] else ''} |"
            )
    # Without a Gemma system (--systems e,f,g) only the sentence below is left of its section.
    lines = ["\n".join(rows), ""] if results or memory else []
    m = report["machine"]
    lines.append(
        f"{report['workload']['pairs']} pairs ({report['workload']['requests']} queries of 20-200 documents, "
        + (f"mean {report['workload']['mean_pair_tokens']:.0f} tokens per pair, "
           if report["workload"].get("mean_pair_tokens") else "")
        + f"max_length "
        f"{report['workload']['max_length']}); Gemma {report['model']['num_hidden_layers']} layers, hidden "
        f"{report['model']['hidden_size']}, random weights; {m['cpus']} CPUs, torch {m['torch']} with "
        f"{m['torch_threads']} threads; fp32 matmul peak {m['matmul_gflops']:.0f} GFLOP/s."
    )
    if report.get("cross_encoder"):
        lines += ["", cross_encoder_markdown(report["cross_encoder"], results.get("ours", {}), m)]
    if report.get("targets"):
        lines += ["", "| target | measured | reached |", "|---|---:|---|"]
        for t in report["targets"]:
            value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
            reached = {True: "yes", False: "no", None: "not measured"}[t["reached"]]
            lines.append(f"| {t['target']} | {value} | {reached}{' (' + t['note'] + ')' if t['note'] else ''} |")
    if report.get("study"):
        lines += ["", "| our scorer variant | pairs/s | vs default | padding |", "|---|---:|---:|---:|"]
        base = results.get("ours", {}).get("pairs_per_s")
        for name, r in report["study"].items():
            if "error" in r:
                lines.append(f"| {name} | failed | | |")
            else:
                padding = f"{r['padding_overhead']:.0%}" if "padding_overhead" in r else "n/a"
                lines.append(f"| {name} | {r['pairs_per_s']:.1f} | {ratio(r['pairs_per_s'], base)} | {padding} |")
    return "\n".join(lines)


def layers(model: dict) -> str:
    count = model["num_hidden_layers"]
    return f"{count} layer{'s' if count != 1 else ''}"


def cross_encoder_markdown(section: dict, gemma_ours: dict, machine: dict) -> str:
    """The cross-encoder section: its own table, one model for speed and memory."""
    results = section["results"]
    flag = results.get("flag", {}).get("pairs_per_s")

    rows = ["**cross-encoder** (bge-reranker-v2-m3's architecture)", "",
            "| system | batching | pairs/s | vs FlagReranker | MFU | padding | peak RSS, 250k vocab | "
            "latency p50 / p95 / p99 |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    for name in ("flag", "ours", "grpc"):
        r = results.get(name)
        if r is None:
            continue
        if "error" in r:
            peak = r.get("observed_tree_peak_rss_bytes") if "stopped" in r["error"] else None
            rows.append(f"| {CE_LABELS[name]} | | failed: {short_error(r)} | | | | "
                        f"{'> ' + gib(peak) + ' (stopped)' if peak else ''} | |")
            continue
        if name == "grpc":
            for level in r["levels"]:
                rows.append(
                    f"| {CE_LABELS[name]}, {level['clients']} client{'s' if level['clients'] > 1 else ''} | "
                    f"server default | {level['pairs_per_s']:.1f} | {ratio(level['pairs_per_s'], flag)} | "
                    f"{level['mfu']:.0%} | | {gib(r.get('peak_rss_bytes'))} | "
                    f"{level['p50_ms']:.0f} / {level['p95_ms']:.0f} / {level['p99_ms']:.0f} ms |"
                )
            continue
        batching = {"flag": f"{r.get('batch_size')} pairs, sorted",
                    "ours": f"<= {r.get('max_batch_tokens')} tokens, <= {r.get('max_batch_pairs')} pairs"}[name]
        rows.append(
            f"| {CE_LABELS[name]} | {batching} | {r['pairs_per_s']:.1f} | {ratio(r['pairs_per_s'], flag)} | "
            f"{r['mfu']:.0%} | {r.get('padding_overhead', 0):.0%} | {gib(r.get('peak_rss_bytes'))} | |"
        )
    model = section["model"]
    note = (f"Same pairs, max_length {section['max_length']}, mean {section.get('mean_pair_tokens') or 0:.0f} tokens per "
            f"pair; XLM-RoBERTa sequence classifier, {layers(model)}, hidden {model['hidden_size']}, "
            f"MLP {model['intermediate_size']}, {model['num_attention_heads']} heads, {model['vocab']:,} tokens, random "
            f"weights; {machine['cpus']} CPUs, one model for throughput and memory (its vocabulary costs no FLOPs).")
    ours = results.get("ours", {})
    if ours.get("model_flops") and gemma_ours.get("model_flops"):
        per_pair = (gemma_ours["model_flops"] / gemma_ours["pairs"]) / (ours["model_flops"] / ours["pairs"])
        note += (f" Ours scores {ratio(ours['pairs_per_s'], gemma_ours['pairs_per_s'])} the Gemma's pairs/s here, "
                 f"at {per_pair:.1f}x fewer FLOPs per pair.")
    return "\n".join([*rows, "", note])


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results, memory = report["throughput"], report["memory"]
    fig, ((ax_rate, ax_mem), (ax_cdf, ax_ce)) = plt.subplots(2, 2, figsize=(15, 10.5))
    names, rates, colors = [], [], []
    palette = {"seed": "#9e9e9e", "flag": "#e69f00", "ours": "#0072b2", "grpc": "#56b4e9"}
    for name in ("seed", "flag", "ours"):
        r = results.get(name, {})
        if "pairs_per_s" in r:
            names.append(LABELS[name])
            rates.append(r["pairs_per_s"])
            colors.append(palette[name])
    for level in results.get("grpc", {}).get("levels", []):
        names.append(f"gRPC, {level['clients']} client{'s' if level['clients'] > 1 else ''}")
        rates.append(level["pairs_per_s"])
        colors.append(palette["grpc"])
    bars = ax_rate.bar(range(len(rates)), rates, color=colors)
    ax_rate.bar_label(bars, fmt="%.1f")
    ax_rate.set_xticks(range(len(rates)), names, rotation=25, ha="right")
    ax_rate.set_ylabel("pairs / s (higher is better)")
    ax_rate.set_title(f"Throughput, {report['workload']['pairs']} pairs, 32k vocabulary")

    mem_names, mem_32k, mem_256k, stopped = [], [], [], []
    for name in ("seed", "flag", "ours", "grpc"):
        if name not in results and name not in memory:
            continue
        mem_names.append(LABELS[name])
        mem_32k.append((results.get(name, {}).get("peak_rss_bytes") or 0) / GIB)
        r = memory.get(name, {})
        mem_256k.append((r.get("peak_rss_bytes") or r.get("observed_tree_peak_rss_bytes") or 0) / GIB)
        stopped.append("error" in r)
    x = range(len(mem_names))
    ax_mem.bar([i - 0.2 for i in x], mem_32k, width=0.4, label="32k vocabulary", color="#56b4e9")
    bars = ax_mem.bar([i + 0.2 for i in x], mem_256k, width=0.4, label="256k vocabulary", color="#d55e00")
    ax_mem.bar_label(bars, labels=[f"{v:.2f}" + (" (stopped)" if s else "") for v, s in zip(mem_256k, stopped)],
                     fontsize=8)
    ax_mem.set_xticks(list(x), mem_names, rotation=25, ha="right")
    ax_mem.set_ylabel("peak RSS, GiB (lower is better)")
    ax_mem.set_title("Peak memory per system (own process)")
    ax_mem.legend()

    for level in results.get("grpc", {}).get("levels", []):
        latencies = sorted(1000 * v for v in level["latencies_s"])
        fractions = [0.0] + [(i + 1) / len(latencies) for i in range(len(latencies))]
        ax_cdf.step([latencies[0], *latencies], fractions, where="post", marker=".",
                    label=f"{level['clients']} client{'s' if level['clients'] > 1 else ''}, "
                    f"{level['requests']} requests")
    ax_cdf.set_xscale("log")
    ax_cdf.set_xlabel("request latency, ms (one query, 20-200 documents)")
    ax_cdf.set_ylabel("fraction of requests")
    ax_cdf.set_ylim(0, 1.05)
    ax_cdf.set_title("gRPC latency CDF")
    if results.get("grpc", {}).get("levels"):
        ax_cdf.legend()
    plot_cross_encoder(ax_ce, report.get("cross_encoder") or {}, palette)
    fig.suptitle(f"bge-reranker-v2-gemma architecture, {report['model']['num_hidden_layers']} layers (first three "
                 f"panels) and bge-reranker-v2-m3's (last), random weights, {report['machine']['cpus']} CPUs"
                 + (" -- QUICK smoke run, not a measurement" if report["quick"] else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_cross_encoder(ax, section: dict, palette: dict) -> None:
    """Pairs/s per cross-encoder system, each bar labelled with its peak RSS and MFU."""
    short = {"flag": "FlagEmbedding FlagReranker", "ours": "ours, in-process", "grpc": "ours, gRPC"}
    names, rates, notes, colors = [], [], [], []
    for name in ("flag", "ours", "grpc"):
        r = section.get("results", {}).get(name, {})
        for run in (r.get("levels") or [r]) if "error" not in r else []:
            if "pairs_per_s" not in run:
                continue
            names.append(short[name] + (f", {run['clients']} client" if "clients" in run else ""))
            rates.append(run["pairs_per_s"])
            notes.append(f"{run['pairs_per_s']:.1f} pairs/s\n{(r.get('peak_rss_bytes') or 0) / GIB:.2f} GiB\n"
                         f"MFU {run['mfu']:.0%}")
            colors.append(palette[name])
    if not names:
        ax.axis("off")
        ax.text(0.5, 0.5, "cross-encoder rows not run", ha="center", va="center")
        return
    bars = ax.bar(range(len(rates)), rates, color=colors)
    ax.bar_label(bars, labels=notes, fontsize=8)
    ax.set_ylim(0, max(rates) * 1.3)
    ax.set_xticks(range(len(rates)), names, rotation=15, ha="right")
    ax.set_ylabel("pairs / s (higher is better)")
    model = section["model"]
    ax.set_title(f"Cross-encoder (bge-reranker-v2-m3 architecture, {layers(model)}, "
                 f"{model['vocab']:,} tokens), max_length {section['max_length']}\nlabels: peak RSS of the process, MFU",
                 fontsize=10)


# ---------------------------------------------------------------- systems


def best_flag_batch(sizes: str, model: Path, probe_file: Path, probe_pairs: int, result: Path, extra: list[str],
                    args: argparse.Namespace, max_length: int | None = None) -> tuple[int | None, dict]:
    """FlagEmbedding's batch size: the one given, or the fastest of several on
    the probe pairs; None when its venv is missing or the probe failed."""
    if not FLAG_PYTHON.exists():
        return None, {"error": "bench/.venv-flag is missing: run bench/setup.sh"}
    if "," not in sizes:
        return int(sizes), {}
    log(f"probing FlagEmbedding batch sizes {sizes} on {probe_pairs} pairs")
    probe = run_system("system_flag", FLAG_PYTHON, model, probe_file, result, ["--probe", sizes, *extra], args,
                       max_length)
    rates = probe.get("pairs_per_s_by_batch_size")
    return (int(max(rates, key=rates.get)) if rates else None), probe


def flag_unavailable(probe: dict) -> dict:
    error = probe.get("error", "")
    if "setup.sh" in error:
        return {"error": error}
    return {"error": f"the batch-size probe failed: {error[:500]}"}


def run_cross_encoder(systems: list[str], requests: list[dict], requests_file: Path, work: Path, peak_flops: float,
                      args: argparse.Namespace) -> dict:
    """The cross-encoder section: ours, FlagReranker and the gRPC server (1
    client) on one random XLM-RoBERTa with m3's vocabulary, the same pairs at
    --ce-max-length; each run gives both throughput and peak RSS."""
    from transformers import AutoConfig

    log(f"building the cross-encoder ({args.ce_layers} layers)")
    model = build_cross_encoder(work / "xlm-roberta", args.ce_layers)
    config = AutoConfig.from_pretrained(model)
    probe_file = work / "ce-probe.json"
    workload.save(head_of(requests, args.ce_probe_pairs), probe_file)
    flag_extra = ["--kind", CROSS_ENCODER_KIND]
    results, probe, flag_batch = {}, {}, None
    if "flag" in systems:
        flag_batch, probe = best_flag_batch(args.ce_flag_batch_sizes, model, probe_file, args.ce_probe_pairs,
                                            work / "ce-flag-probe.json", flag_extra, args, args.ce_max_length)
    for name in systems:
        extra, system_python = [], Path(sys.executable)
        if name == "flag":
            if flag_batch is None:
                results[name] = flag_unavailable(probe)
                continue
            extra, system_python = [*flag_extra, "--batch-size", str(flag_batch)], FLAG_PYTHON
        elif name == "grpc":
            extra = ["--clients", "1", "--served-name", CROSS_ENCODER_SERVED_NAME]
        log(f"{name} on the cross-encoder")
        results[name] = run_system(f"system_{name}", system_python, model, requests_file, work / f"ce-{name}.json",
                                   extra, args, args.ce_max_length)
    for name, result in results.items():
        if name == "grpc":
            lengths = pair_lengths(model, requests, args.ce_max_length, CROSS_ENCODER_KIND)
            summarize_grpc(result, config, peak_flops, lengths)
        else:
            summarize(result, config, peak_flops)
    return {
        "model": {**CROSS_ENCODER, "num_hidden_layers": args.ce_layers, "vocab": CROSS_ENCODER_VOCAB,
                  "architecture": "XLMRobertaForSequenceClassification, 1 label",
                  "weights": "random (rerank_server.testing.tiny_model, embedding padded to the vocabulary)"},
        "max_length": args.ce_max_length,
        "mean_pair_tokens": next((r["mean_pair_tokens"] for r in results.values() if "mean_pair_tokens" in r), None),
        "flag_probe": probe,
        "results": results,
        "score_max_abs_diff_vs_ours": parity(results),
    }


# ---------------------------------------------------------------- main


def main(argv=None) -> None:
    args = parse_args(argv)
    import torch
    from transformers import AutoConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rerank-bench-"))
    started = time.perf_counter()
    log(f"work directory {work}")

    log(f"building models ({args.layers} layers)")
    models = build_models(work, args.layers)
    config = AutoConfig.from_pretrained(models["throughput"])
    memory_config = AutoConfig.from_pretrained(models["memory"])
    requests = workload.make_requests(args.pairs, args.seed)
    requests_file, memory_file, probe_file = work / "requests.json", work / "memory.json", work / "probe.json"
    workload.save(requests, requests_file)
    workload.save(head_of(requests, args.memory_pairs), memory_file)
    workload.save(head_of(requests, args.probe_pairs), probe_file)

    log("measuring the fp32 matmul peak")
    peak_flops = matmul_flops_per_second()
    python = Path(sys.executable)
    results, memory, probe = {}, {}, {}

    def result_path(name):
        return work / f"{name}.json"

    flag_batch = None
    if "flag" in args.systems:
        flag_batch, probe = best_flag_batch(args.flag_batch_sizes, models["throughput"], probe_file, args.probe_pairs,
                                            result_path("flag-probe"), [], args)

    for name in args.systems:
        if name.startswith(CROSS_ENCODER_PREFIX):
            continue
        for model_name, requests_path, store in (("throughput", requests_file, results), ("memory", memory_file, memory)):
            extra, system_python = [], python
            if name == "seed":
                size = args.seed_batch_size if model_name == "throughput" else min(args.seed_batch_size, args.memory_batch_size)
                extra = ["--batch-size", str(size)]
            elif name == "flag":
                if flag_batch is None:
                    store[name] = flag_unavailable(probe)
                    continue
                size = flag_batch if model_name == "throughput" else min(flag_batch, args.memory_batch_size)
                extra, system_python = ["--batch-size", str(size)], FLAG_PYTHON
            elif name == "grpc":
                extra = ["--clients", args.clients if model_name == "throughput" else "4"]
            log(f"{name} on the {model_name} model")
            result = run_system(f"system_{name}", system_python, models[model_name], requests_path,
                                result_path(f"{name}-{model_name}"), extra, args)
            store[name] = result

    for name, result in results.items():
        if name == "grpc":
            continue
        summarize(result, config, peak_flops)
    for name, result in memory.items():
        if name != "grpc":
            summarize(result, memory_config, peak_flops)
    if "grpc" in results:
        summarize_grpc(results["grpc"], config, peak_flops, pair_lengths(models["throughput"], requests, args.max_length))
    if "grpc" in memory and "error" not in memory["grpc"]:
        for level in memory["grpc"]["levels"]:
            level.pop("latencies_s", None)

    cross_encoder = {}
    cross_encoder_systems = [n[len(CROSS_ENCODER_PREFIX):] for n in args.systems if n.startswith(CROSS_ENCODER_PREFIX)]
    if cross_encoder_systems:
        cross_encoder = run_cross_encoder(cross_encoder_systems, requests, requests_file, work, peak_flops, args)

    study = {}
    if args.study and "ours" in args.systems:
        variants = {
            "1 thread": ["--threads", "1"],
            "eager attention": ["--attention", "eager"],
            "no padding bound": ["--max-padding-ratio", "-1"],
            "max_batch_tokens 4096": ["--max-batch-tokens", "4096"],
            "max_batch_tokens 32768, 128 pairs": ["--max-batch-tokens", "32768", "--max-batch-pairs", "128"],
            "batches split at 10% padding": ["--split-padding", "0.1"],
        }
        for label, extra in variants.items():
            log(f"study: ours with {label}")
            result = run_system("system_ours", python, models["throughput"], requests_file,
                                result_path("study-" + label.replace(" ", "_").replace(",", "")),
                                [*extra, "--label", label], args)
            study[label] = summarize(result, config, peak_flops)

    report = {
        "quick": args.quick,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "matmul_gflops": peak_flops / 1e9,
            "matmul": "best of ~2 s of torch.mm on 2048x2048 fp32",
            "load_average_at_end": os.getloadavg(),
        },
        "model": {**MODEL, "num_hidden_layers": args.layers, "vocab_throughput": THROUGHPUT_VOCAB,
                  "vocab_memory": MEMORY_VOCAB, "weights": "random (rerank_server.testing.tiny_model)"},
        "workload": {
            "pairs": args.pairs,
            "requests": len(requests),
            "memory_pairs": args.memory_pairs,
            "max_length": args.max_length,
            "seed": args.seed,
            "mean_pair_tokens": results.get("ours", {}).get("mean_pair_tokens"),
        },
        "flag_probe": probe,
        "throughput": results,
        "memory": memory,
        "score_max_abs_diff_vs_ours": parity(results),
        "cross_encoder": cross_encoder,
        "study": study,
        "work_directory": str(work),
        "wall_seconds": time.perf_counter() - started,
    }
    report["targets"] = targets(results, memory)
    json_path, png_path = out / "latest.json", out / "latest.png"
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(json_path)
    plot(report, png_path)
    log(f"wrote {json_path} and {png_path} in {report['wall_seconds']:.0f} s")
    print(markdown(report))


if __name__ == "__main__":
    main()
