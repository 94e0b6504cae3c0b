"""NLU quality three ways, for the project's pipeline and for Rasa's default pipeline side by side.

    .venv/bin/python benchmarks/nlu_compare.py BLIND_NLU_YML [BLIND_NLU_YML ...] [--folds 5] [--no-cv] [--no-blind]
        [--configs project,default] [--json results.json] [--errors]

1. Rasa's cross-validation on `data/`: the stratified folds of `rasa test nlu --cross-validation`
   (`rasa.nlu.test.generate_folds`, one NLU model trained per fold, predictions on the held-out fold).
2. A blind test set (Rasa NLU YAML, written without sight of the training data): one NLU model
   trained on all of `data/`, then every message of the set parsed.
3. Baseline: the same two measurements for Rasa's default pipeline, i.e. the pipeline Rasa suggests
   for a config without one (what `rasa init` writes), trained on the SAME `data/`.

Labels: every intent, with the retrieval intent `education` split into its topics by the response
selector (a message is right only when the intent is `education` AND the topic is the right one), as
the bot answers. Predictions are taken before the FallbackClassifier, as `rasa test nlu` does; the
share of messages that would have fallen back is shown separately. Per label: F1; overall: macro-F1
over the labels of the gold data, accuracy, and `emergency` F1.

Prints a Markdown table; nothing here is asserted by the tests. The folds use a fixed seed so that
both configs see the same folds. Parse latency and model size are printed for the blind run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RETRIEVAL_INTENT = "education"
EMERGENCY = "emergency"
FOLD_SEED = 20261201


def default_config(path: Path) -> Path:
    """A config without a pipeline or policies: Rasa fills in its suggested default (as `rasa init`)."""
    path.write_text('recipe: default.v1\nlanguage: en\nassistant_id: default_baseline\n')
    return path


def configs(names: List[str], tmp: Path) -> Dict[str, Path]:
    out = {}
    for name in names:
        if name == "project":
            out[name] = ROOT / "config.yml"
        elif name == "default":
            out[name] = default_config(tmp / "default_config.yml")
        else:
            out[Path(name).stem] = Path(name).resolve()
    return out


def load_nlu(path: Path):
    """The NLU examples (and responses) of a file or a folder, as `rasa train nlu` reads them."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(training_data_paths=[str(path)])
    return importer.get_nlu_data()


def train(config: Path, nlu_path: Path, out: Path) -> Path:
    import rasa.model_training

    # An empty cache each time: Rasa would otherwise reuse components trained on other data.
    os.environ["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="nlu-compare-cache-", dir=out)
    model = rasa.model_training.train_nlu(str(config), str(nlu_path), str(out), domain=str(ROOT / "domain.yml"))
    if not model:
        raise SystemExit(f"training failed for {config}")
    return Path(model)


def predicted_label(result: dict) -> str:
    intent = (result.get("intent") or {}).get("name") or ""
    if intent != RETRIEVAL_INTENT:
        return intent
    selectors = result.get("response_selector") or {}
    # The project's ResponseSelector is keyed by its retrieval intent; the default one by "default".
    selector = selectors.get(RETRIEVAL_INTENT) or selectors.get("default") or {}
    key = ((selector.get("response") or {}).get("intent_response_key")) or ""
    return key or intent


def gold_label(example) -> str:
    return example.get_full_intent()


async def predict(model: Path, examples) -> Tuple[List[str], List[str], List[float], int]:
    """Labels predicted for the examples, parse times in ms and how many would have fallen back."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.nlu.classifiers import fallback_classifier

    processor = Agent.load(str(model)).processor
    texts, labels, times, fallbacks = [], [], [], 0
    for example in examples:
        text = example.get("text")
        t0 = time.perf_counter()
        result = await processor.parse_message(UserMessage(text=text), tracker=None, only_output_properties=False)
        times.append((time.perf_counter() - t0) * 1000)
        if fallback_classifier.is_fallback_classifier_prediction(result):
            fallbacks += 1
            result = fallback_classifier.undo_fallback_prediction(result)
        texts.append(text)
        labels.append(predicted_label(result))
    return texts, labels, times, fallbacks


def scores(gold: List[str], pred: List[str]) -> dict:
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    labels = sorted(set(gold))
    _, _, f1, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per = {label: float(v) for label, v in zip(labels, f1, strict=True)}
    # Rasa's own intent report counts `education` as one intent; kept for comparison with `rasa test nlu`.
    merged_gold = [g.split("/")[0] for g in gold]
    merged_pred = [p.split("/")[0] for p in pred]
    merged_labels = sorted(set(merged_gold))
    return {
        "n": len(gold),
        "macro_f1": float(statistics.mean(per.values())),
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold),
        "emergency_f1": per.get(EMERGENCY, float("nan")),
        "rasa_intent_macro_f1": float(f1_score(merged_gold, merged_pred, labels=merged_labels, average="macro", zero_division=0)),
        "per_label": per,
        "support": {label: int(s) for label, s in zip(labels, support, strict=True)},
    }


def errors_of(gold, pred, texts) -> List[dict]:
    return [{"text": t, "gold": g, "predicted": p} for g, p, t in zip(gold, pred, texts, strict=True) if g != p]


def blind(config: Path, blind_path: Path, work: Path, keep: Optional[Path] = None, model: Optional[Path] = None) -> dict:
    """Scores of `blind_path` for an NLU model trained on all of data/ with `config` (or the `model`
    already trained so: several blind sets share one training)."""
    data = load_nlu(blind_path)
    if model is None:
        model = train(config, ROOT / "data", work)
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(model, keep / f"{config.stem}-{model.name}")
    texts, pred, times, fallbacks = asyncio.run(predict(model, data.intent_examples))
    gold = [gold_label(e) for e in data.intent_examples]
    res = scores(gold, pred)
    times_sorted = sorted(times[1:] or times)  # the first parse warms up TensorFlow
    res.update(
        model=str(model),
        fallback_rate=fallbacks / len(gold),
        parse_p50_ms=times_sorted[len(times_sorted) // 2],
        parse_p95_ms=times_sorted[min(len(times_sorted) - 1, int(round(0.95 * (len(times_sorted) - 1))))],
        model_mib=model.stat().st_size / 2**20,
        errors=errors_of(gold, pred, texts),
    )
    return res


def cross_validation(config: Path, folds: int, work: Path) -> dict:
    import numpy as np
    from rasa.nlu.test import generate_folds
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    data = load_nlu(ROOT / "data")
    # StratifiedKFold(shuffle=True) in generate_folds draws from NumPy's global generator.
    np.random.seed(FOLD_SEED)
    gold, pred, texts, fallbacks = [], [], [], 0
    for i, (train_data, test_data) in enumerate(generate_folds(folds, data)):
        fold_dir = work / f"fold{i}"
        fold_dir.mkdir()
        train_file = fold_dir / "train.yml"
        RasaYAMLWriter().dump(train_file, train_data)
        model = train(config, train_file, fold_dir)
        t, p, _, fb = asyncio.run(predict(model, test_data.intent_examples))
        texts += t
        pred += p
        fallbacks += fb
        gold += [gold_label(e) for e in test_data.intent_examples]
        print(f"  fold {i + 1}/{folds} done", file=sys.stderr, flush=True)
    res = scores(gold, pred)
    res.update(fallback_rate=fallbacks / len(gold), errors=errors_of(gold, pred, texts))
    return res


def fmt(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(results: Dict[str, Dict[str, dict]]) -> str:
    """results[measure][config] -> scores; one column per (measure, config)."""
    cols = [(m, c) for m in results for c in results[m]]
    labels = sorted({label for m, c in cols for label in results[m][c]["per_label"]})
    head = "| | " + " | ".join(f"{m} {c}" for m, c in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]

    def row(name, get):
        lines.append(f"| {name} | " + " | ".join(get(results[m][c]) for m, c in cols) + " |")

    row("messages", lambda r: str(r["n"]))
    row("**macro-F1**", lambda r: f"**{r['macro_f1']:.3f}**")
    row("accuracy", lambda r: fmt(r["accuracy"]))
    row("**emergency F1**", lambda r: f"**{r['emergency_f1']:.3f}**")
    row("min label F1", lambda r: fmt(min(r["per_label"].values())))
    row("Rasa intent macro-F1 (education as one)", lambda r: fmt(r["rasa_intent_macro_f1"]))
    row("would fall back (FallbackClassifier)", lambda r: f"{100 * r['fallback_rate']:.1f}%")
    row("parse p50 / p95 ms", lambda r: f"{r['parse_p50_ms']:.0f} / {r['parse_p95_ms']:.0f}" if "parse_p50_ms" in r else "-")
    row("model size MiB", lambda r: f"{r['model_mib']:.1f}" if "model_mib" in r else "-")
    for label in labels:
        row(label, lambda r, label=label: fmt(r["per_label"].get(label)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("blind", type=Path, nargs="+", help="blind test set(s), Rasa NLU YAML (one training per config for all)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation (the slow part)")
    parser.add_argument("--no-blind", action="store_true", help="skip the blind set")
    parser.add_argument("--configs", default="project,default",
                        help="comma-separated: project (config.yml), default (Rasa's default) or config paths")
    parser.add_argument("--json", type=Path, help="write all figures (and the misclassified messages) here")
    parser.add_argument("--errors", action="store_true", help="print the misclassified blind messages")
    parser.add_argument("--keep-models", type=Path, help="copy the NLU models trained on all of data/ here")
    args = parser.parse_args()

    logging.getLogger().setLevel(logging.WARNING)
    # Rasa's structlog events ("processor.message.parse") hold the parsed text at DEBUG: not printed.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    os.chdir(ROOT)
    results: Dict[str, Dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
        tmp = Path(tmp)
        for name, config in configs(args.configs.split(","), tmp).items():
            if not args.no_blind:
                work = tmp / f"blind-{name}"
                work.mkdir()
                model = None
                for path in args.blind:
                    label = "/".join(path.parts[-3:-1]) if len(path.parts) >= 3 else path.stem
                    print(f"blind set {label}, {name} ({config})", file=sys.stderr, flush=True)
                    r = results.setdefault(f"blind:{label}", {})[name] = blind(config, path, work, args.keep_models, model)
                    model = Path(r["model"])
                    print(f"  macro-F1 {r['macro_f1']:.3f}, emergency F1 {r['emergency_f1']:.3f}", file=sys.stderr, flush=True)
            if not args.no_cv:
                work = tmp / f"cv-{name}"
                work.mkdir()
                print(f"cross-validation, {args.folds} folds, {name} ({config})", file=sys.stderr, flush=True)
                r = results.setdefault(f"cv{args.folds}", {})[name] = cross_validation(config, args.folds, work)
                print(f"  macro-F1 {r['macro_f1']:.3f}, emergency F1 {r['emergency_f1']:.3f}", file=sys.stderr, flush=True)
    print(table(results))
    if args.errors:
        for measure, by_config in results.items():
            if not measure.startswith("blind"):
                continue
            for name, r in by_config.items():
                print(f"\n{measure} {name}: {len(r['errors'])} misclassified")
                for e in r["errors"]:
                    print(f"  {e['gold']:<30} -> {e['predicted']:<30} {e['text']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
