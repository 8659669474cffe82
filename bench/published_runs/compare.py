#!/usr/bin/env python3
"""Published large-scale training runs against `llmc estimate`.

Each run of runs.json is a layout a paper ran and the throughput it
measured. For each, this script writes the model's config.json, asks
`llmc estimate --closed-form` for the step time of that layout on the
cluster preset, converts it into the paper's own metric with the paper's own
FLOP formula, and prints predicted against published. It also asks `llmc
plan` for the fastest layout of the same devices and batch and checks that
it is predicted at least as fast as the paper's.

The closed form is the cost model of Megatron-LM's layer (unfused attention
with dropout, as these papers ran it); llmc's own compiled layer (fused
attention, no dropout) is not what they measured.

Exit status 1 when a run's error or a source's mean error is past its
bound, or the planner's choice is slower than the paper's layout.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def megatron_flops(run):
    """The paper's FLOPs per step (Narayanan et al. 2021, §5.1, with full
    recomputation): 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h))."""
    m, B = run["model"], run["layout"]["global_batch"]
    s, l, h, V = m["seq"], m["layers"], m["hidden"], m["vocab"]
    return 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h))


def model_flops(run):
    """Model FLOPs per step without recomputation (Korthikanti et al. 2022,
    §6.3): 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h))."""
    m, B = run["model"], run["layout"]["global_batch"]
    s, l, h, V = m["seq"], m["layers"], m["hidden"], m["vocab"]
    return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h))


def metric(run, step_time_s, peak):
    """The run's published metric from a step time."""
    gpus = run["layout"]["devices"]
    kind = run["published"]["metric"]
    if kind == "tflops_per_gpu":
        return megatron_flops(run) / step_time_s / gpus / 1e12
    if kind == "mfu":
        return model_flops(run) / step_time_s / gpus / peak
    raise SystemExit("runs.json: %s: unknown metric '%s'" % (run["name"], kind))


def write_config(run, directory):
    m = run["model"]
    path = os.path.join(directory, run["name"] + ".json")
    with open(path, "w") as f:
        json.dump({"model_type": "gpt2", "activation_function": "gelu_new",
                   "layer_norm_epsilon": 1e-5, "n_embd": m["hidden"],
                   "n_head": m["heads"], "n_layer": m["layers"],
                   "n_positions": m["seq"], "vocab_size": m["vocab"]}, f)
    return path


def llmc_json(llmc, args):
    out = subprocess.run([llmc] + args + ["--json"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit("llmc %s: %s" % (" ".join(args), out.stderr.strip()))
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llmc", required=True)
    parser.add_argument("--clusters", required=True,
                        help="folder of the cluster presets")
    parser.add_argument("--runs", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "runs.json"))
    parser.add_argument("--skip-plan", action="store_true",
                        help="do not search the planner's own layouts")
    opts = parser.parse_args()
    with open(opts.runs) as f:
        table = json.load(f)

    failures = []
    errors = {}
    print("%-22s %-34s %10s %10s %8s %10s" %
          ("run", "layout", "predicted", "published", "error", "plan"))
    with tempfile.TemporaryDirectory() as tmp:
        for run in table["runs"]:
            lay = run["layout"]
            source = table["sources"][run["source"]]
            cluster = os.path.join(opts.clusters, run["cluster"] + ".json")
            with open(cluster) as f:
                peak = json.load(f)["peak_flops"]["bf16"]
            config = write_config(run, tmp)
            dp = lay["devices"] // (lay["tp"] * lay["pp"])
            v = lay.get("virtual_stages", 1)
            common = [config, "--cluster", cluster, "--closed-form",
                      "--global-batch", str(lay["global_batch"]),
                      "--precision", "bf16-mixed"]
            est = llmc_json(opts.llmc, ["estimate"] + common + [
                "--mesh", "dp=%d,tp=%d,pp=%d" % (dp, lay["tp"], lay["pp"]),
                "--micro-batch", str(lay["micro_batch"]),
                "--recompute", lay["recompute"],
                "--schedule", "interleaved" if v > 1 else "1f1b",
                "--virtual-stages", str(v)] +
                (["--sequence-parallel"] if lay.get("sequence_parallel")
                 else []))
            predicted = metric(run, est["step_time_s"], peak)
            published = run["published"]["value"]
            error = predicted / published - 1
            errors.setdefault(run["source"], []).append(abs(error))
            layout = "t%d p%d d%d b%d v%d %s%s" % (
                lay["tp"], lay["pp"], dp, lay["micro_batch"], v,
                lay["recompute"], " sp" if lay.get("sequence_parallel") else "")
            plan_note = "-"
            if not opts.skip_plan:
                plan = llmc_json(opts.llmc, ["plan"] + common + [
                    "--devices", str(lay["devices"]), "--top", "1"])
                best = plan["candidates"][0]
                plan_note = "%.2fx" % (est["step_time_s"] / best["step_time_s"])
                if best["step_time_s"] > est["step_time_s"] * (1 + 1e-9):
                    failures.append("%s: llmc plan's choice (%.3f s) is slower "
                                    "than the paper's layout (%.3f s)" %
                                    (run["name"], best["step_time_s"],
                                     est["step_time_s"]))
            unit = "%" if run["published"]["metric"] == "mfu" else ""
            scale = 100 if unit else 1
            print("%-22s %-34s %9.1f%s %9.1f%s %+7.1f%% %10s" %
                  (run["name"], layout, scale * predicted, unit or " ",
                   scale * published, unit or " ", 100 * error, plan_note))
            bound = source["max_error"]
            if abs(error) > bound:
                failures.append("%s: predicted %.4g, published %.4g: error "
                                "%.1f%% is past %.0f%%" %
                                (run["name"], predicted, published,
                                 100 * error, 100 * bound))
    for name, errs in errors.items():
        mean = sum(errs) / len(errs)
        bound = table["sources"][name]["max_mean_error"]
        print("%s: mean |error| %.1f%% over %d runs (bound %.0f%%), worst "
              "%.1f%% (bound %.0f%%)" %
              (name, 100 * mean, len(errs), 100 * bound, 100 * max(errs),
               100 * table["sources"][name]["max_error"]))
        if mean > bound:
            failures.append("%s: mean error %.1f%% is past %.0f%%" %
                            (name, 100 * mean, 100 * bound))
    print("plan: the paper's step time over that of `llmc plan`'s choice "
          "(>= 1: the planner's layout is predicted at least as fast)")
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
