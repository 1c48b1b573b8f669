#!/usr/bin/env python3
"""bench/run.py (via `make bench` -> bench/run.sh): bertc against transformers +
PyTorch (eager, fp32 and bf16 autocast) and ONNX Runtime (fp32, ORT_ENABLE_ALL,
and int8: onnxruntime.quantization.quantize_dynamic of the same export), in one
run, on the same token ids, with the same thread count, and prints ratios and
the targets of issue 13 (int8 inference >= 1.5x ORT int8, bf16 training >= 2x
PyTorch bf16 autocast, fp32 inference >= 1.2x ORT fp32), each met or with its
measured ratio.

Cases, for each model (all-MiniLM-L6-v2 and the bert-base-sized fixture base3):
  infer   B=32, T=128 padded to max length: sequences/s (bertc, torch, ort)
  latency B=1,  T=128: seconds per sequence (bertc, torch, ort)
  train   B=8,  T=128 padded, and dynamic padding (real IMDB reviews truncated to
          128 tokens, each batch padded to its longest): samples/s (bertc, torch)
Every case runs in its own process (peak RSS = that process's ru_maxrss), and
the implementations are interleaved ROUNDS times; the best round of each is
kept, because other processes share the two cores (the load average is
recorded before and after). Peaks from bench/peak.c give the achieved-GFLOP/s
denominators. bertc runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset
(OpenBLAS picks its AVX-512 kernels) unless --keep-coretype; the kernel that ran
is recorded. Writes bench/results/bench.json.
"""
import argparse, json, os, platform, subprocess, sys, tarfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")


def log(*a):
    print(*a, flush=True)


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def machine():
    info = {"cpu_count": os.cpu_count(), "platform": platform.platform()}
    try:
        txt = open("/proc/cpuinfo").read()
        for line in txt.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = set(next(l for l in txt.splitlines() if l.startswith("flags")).split(":", 1)[1].split())
        info["avx512f"] = "avx512f" in flags
        info["avx512_bf16"] = "avx512_bf16" in flags
        info["vnni"] = bool(flags & {"avx512_vnni", "avx_vnni"})
        info["mem_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except Exception:
        pass
    return info


def run_json(cmd, env=None):
    """Runs one benchmark process under /usr/bin/time (its own peak RSS: a child's
    getrusage would report this driver's, which it inherits across fork+exec)."""
    tfile = os.path.join(BUILD, "time.out")
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd, capture_output=True, text=True, env=env)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        sys.exit(f"bench: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    out = json.loads(lines[-1])
    out["peak_rss_kib"] = int(open(tfile).read().split()[-1])
    return out


def imdb_ids(folder, out, n, length, imdb):
    """The first n train reviews of aclImdb, tokenized with the model's tokenizer
    (transformers), truncated to length: one line of ids per review."""
    if os.path.exists(out):
        return
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    texts = []
    with tarfile.open(imdb, "r:gz") as tf:
        for m in tf:
            if m.isfile() and "/train/" in m.name and m.name.endswith(".txt") and "/unsup/" not in m.name:
                texts.append(tf.extractfile(m).read().decode("utf-8"))
                if len(texts) == n:
                    break
    enc = tok(texts, truncation=True, max_length=length)["input_ids"]
    with open(out + ".tmp", "w") as f:
        for ids in enc:
            f.write(" ".join(map(str, ids)) + "\n")
    os.replace(out + ".tmp", out)


def export_onnx(folder, out):
    if os.path.exists(out):
        return
    import torch
    from transformers import AutoModelForSequenceClassification
    m = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager").eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    torch.onnx.export(m, (ids, torch.ones_like(ids)), out + ".tmp.onnx",
                      input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                                    "logits": {0: "b"}}, opset_version=17, dynamo=False)
    os.replace(out + ".tmp.onnx", out)


def quantize_onnx(src, out):
    """ONNX Runtime's dynamic int8 quantization of the fp32 export, with its
    defaults (int8 weights per tensor, u8 activations computed per call): what
    a user who wants fast CPU inference with ORT does."""
    if os.path.exists(out):
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(src, out + ".tmp.onnx", weight_type=QuantType.QInt8)
    os.replace(out + ".tmp.onnx", out)


def flops_per_seq(cfg, T):
    """Forward FLOPs of one sequence of T tokens (NOTES.md, Counting work):
    2 x encoder matmul parameters x T + 4 x L x T^2 x C (scores and P V)."""
    C, L, F = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    n_enc = L * (4 * C * C + 2 * C * F)
    return 2 * n_enc * T + 4 * L * T * T * C


def profile_line(r, impl, peak):
    """One line from bench_model's "profile" (bert.h's bert_prof): each kind of
    work's share of the measured step, largest first, and the dense layers'
    achieved rate against the peak of their precision (fp32 FMA, bf16; int8 has
    no measured peak, so its rate alone)."""
    p = r.get("profile")
    if not p:
        return None
    step = r["seconds_per_step"]
    parts = {}
    for phase in ("forward", "backward"):
        for k, sec in p.get(phase, {}).items():
            parts[k] = parts.get(k, 0.0) + sec
    for k in ("zero_grad", "optimizer"):
        if k in p:
            parts[k] = p[k]
    parts["other"] = max(0.0, step - sum(parts.values()))
    dense_s = p["forward"]["dense"] + p.get("backward", {}).get("dense", 0.0)
    gflop = p["dense_gflop_forward"] + p.get("dense_gflop_backward", 0.0)
    rate = gflop / dense_s if dense_s > 0 else 0.0
    pk = peak.get("bf16_peak_gflops") if impl == "bertc-bf16" else None if impl.startswith("bertc-int8") \
        else peak.get("fp32_fma_gflops")
    unit = "GOP/s" if impl.startswith("bertc-int8") else "GFLOP/s"
    dense_note = f"{rate:.0f} {unit}" + (f" = {100 * rate / pk:.0f}% of the peak" if pk else "")
    items = sorted(parts.items(), key=lambda kv: -kv[1])
    txt = ", ".join(f"{k} {100 * v / step:.0f}%" + (f" ({dense_note})" if k == "dense" else "")
                    for k, v in items if v / step >= 0.005)
    return f"{impl} step {1000 * step:.1f} ms: {txt}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="all-MiniLM-L6-v2," + os.path.join(ROOT, "build/fixtures/forward/base3"))
    ap.add_argument("--imdb", default=os.path.join(ROOT, "..", "shared", "data", "imdb", "aclImdb-text.tar.gz"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default="infer,latency,train,train-dyn", help="comma list; 'none' for only the peaks")
    ap.add_argument("--keep-coretype", action="store_true")
    ap.add_argument("--no-bf16", action="store_true", help="skip bertc --precision bf16 (bertc-bf16 rows)")
    ap.add_argument("--no-torch-bf16", action="store_true", help="skip PyTorch bf16 autocast (torch-bf16 rows)")
    ap.add_argument("--omp-wait-policy", help="set OMP_WAIT_POLICY for every implementation (default: as is)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "bench.json"))
    a = ap.parse_args()
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    if a.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = a.omp_wait_policy
    env_bertc = dict(os.environ)
    if not a.keep_coretype:
        env_bertc.pop("OPENBLAS_CORETYPE", None)
        env_bertc.pop("OPENBLAS_L2_SIZE", None)
    result = {"benchmark": "bertc vs PyTorch vs ONNX Runtime", "date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": machine(), "threads": a.threads, "loadavg_start": loadavg(),
              "openblas_env_for_bertc": "as set" if a.keep_coretype else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset",
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)")}
    import torch
    result["torch"] = torch.__version__
    try:
        import onnxruntime
        result["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        result["onnxruntime"] = None
    log(f"load average {result['loadavg_start']}; {result['machine'].get('cpu')} x{os.cpu_count()}")

    peak = run_json([os.path.join(BUILD, "peak")], env=env_bertc)
    peak_haswell = run_json([os.path.join(BUILD, "peak")])
    result["peak"] = peak
    result["peak_env_as_set"] = peak_haswell
    # the bf16 peak: the larger of vdpbf16ps and AMX's tiles (peak.c); an older peak.c has only the dot
    peak.setdefault("bf16_peak_gflops", peak.get("bf16_dot_gflops"))
    log(f"peak: fp32 FMA {peak['fp32_fma_gflops']} GFLOP/s, bf16 dot {peak['bf16_dot_gflops']} GFLOP/s, "
        f"AMX bf16 {peak.get('amx_bf16_gflops')} GFLOP/s (bf16 peak {peak['bf16_peak_gflops']}); "
        f"sgemm at BERT shapes ({peak['openblas_core']}) " + ", ".join(str(s["gflops"]) for s in peak["sgemm"]) +
        f"; ({peak_haswell['openblas_core']}) " + ", ".join(str(s["gflops"]) for s in peak_haswell["sgemm"]))

    # bertc's matrix-multiply phases alone, at the models' shapes, as the model calls them
    gp = run_json([os.path.join(BUILD, "gemm_phases"), "--threads", str(a.threads)], env=env_bertc)
    for c in gp["cases"]:
        c["layer_fp32_pct_of_fp32_peak"] = round(100 * c["layer_fp32_gflops"] / peak["fp32_fma_gflops"], 1)
        line = (f"GEMM phases {c['model']:>18} {c['use']:>5} ({c['tokens']} tokens): fp32 {c['layer_fp32_gflops']} GFLOP/s "
                f"= {c['layer_fp32_pct_of_fp32_peak']}% of the fp32 peak")
        if gp.get("bf16") and peak.get("bf16_peak_gflops"):
            c["layer_bf16_pct_of_fp32_peak"] = round(100 * c["layer_bf16_gflops"] / peak["fp32_fma_gflops"], 1)
            c["layer_bf16_pct_of_bf16_peak"] = round(100 * c["layer_bf16_gflops"] / peak["bf16_peak_gflops"], 1)
            line += (f"; bf16 {c['layer_bf16_gflops']} GFLOP/s = {c['layer_bf16_pct_of_fp32_peak']}% of the fp32 peak, "
                     f"{c['layer_bf16_pct_of_bf16_peak']}% of the bf16 peak")
        else:
            line += "; bf16: not on this CPU"
        log(line)
    result["gemm_phases"] = gp

    cases = a.cases.split(",")
    rows = []
    for model in a.models.split(","):
        folder = model if os.path.isdir(model) else os.path.join(cache, "bertc", "models", model)
        name = os.path.basename(folder.rstrip("/"))
        cfg = json.load(open(os.path.join(folder, "config.json")))
        ids_file = os.path.join(BUILD, f"ids_{name}.txt")
        imdb_ids(folder, ids_file, 256, 128, a.imdb)
        onnx_file = os.path.join(BUILD, f"{name}.onnx")
        onnx_int8 = os.path.join(BUILD, f"{name}.int8.onnx")
        if result["onnxruntime"]:
            export_onnx(folder, onnx_file)
            quantize_onnx(onnx_file, onnx_int8)
        big = cfg["hidden_size"] >= 768
        spec = {  # case: (mode, batch, steps, warmup, ids?, pad_to_max?, impls)
            "infer": ("infer", 32, 2 if big else 4, 1, True, True,
                      ["bertc", "bertc-bf16", "bertc-int8", "torch", "torch-bf16", "ort", "ort-int8"]),
            "latency": ("infer", 1, 10 if big else 30, 3, True, True,
                        ["bertc", "bertc-bf16", "bertc-int8", "torch", "torch-bf16", "ort", "ort-int8"]),
            "train": ("train", 8, 2 if big else 4, 1, True, True,
                      ["bertc", "bertc-bf16", "bertc-recompute", "torch", "torch-bf16"]),
            "train-dyn": ("train", 8, 2 if big else 4, 1, True, False, ["bertc", "bertc-bf16", "torch", "torch-bf16"]),
        }
        for case in cases:
            if case == "none":
                continue
            mode, B, steps, warm, use_ids, pad, impls = spec[case]
            if not result["onnxruntime"]:
                impls = [i for i in impls if not i.startswith("ort")]
            if a.no_torch_bf16:
                impls = [i for i in impls if i != "torch-bf16"]
            if a.no_bf16 or not result["machine"].get("avx512_bf16"):
                impls = [i for i in impls if i != "bertc-bf16"]
            # without VNNI bertc's int8 runs its own exact kernel (8-bit weights);
            # oneDNN's faster vpmaddubsw kernel with 7-bit weights is the alternative
            # (BERTC_INT8_KERNEL=onednn, docs/numerics.md): measure both
            if "bertc-int8" in impls and result["machine"].get("vnni") is False:
                impls = impls[:impls.index("bertc-int8") + 1] + ["bertc-int8-onednn"] + impls[impls.index("bertc-int8") + 1:]
            best = {}
            for rnd in range(a.rounds):
                for impl in impls:
                    common = ["--batch", str(B), "--length", "128", "--steps", str(steps), "--warmup", str(warm),
                              "--threads", str(a.threads)]
                    if use_ids:
                        common += ["--ids", ids_file]
                    if pad:
                        common += ["--pad-to-max"]
                    if impl.startswith("bertc"):
                        flag = {"bertc": [], "bertc-bf16": ["--bf16"], "bertc-int8": ["--int8"],
                                "bertc-int8-onednn": ["--int8"], "bertc-recompute": ["--recompute"]}[impl]
                        env = dict(env_bertc, BERTC_INT8_KERNEL="onednn") \
                            if impl == "bertc-int8-onednn" else env_bertc
                        r = run_json([os.path.join(BUILD, "bench_model"), "--model", folder, "--mode", mode] + common
                                     + flag, env=env)
                        r["impl"] = impl
                    else:
                        r = run_json([sys.executable, os.path.join(ROOT, "bench", "bench_torch.py"), "--impl", impl,
                                      "--mode", mode, "--model", folder, "--onnx", onnx_file,
                                      "--onnx-int8", onnx_int8] + common)
                    r["loadavg"] = loadavg()[0]
                    if impl not in best or r["samples_per_s"] > best[impl]["samples_per_s"]:
                        best[impl] = r
            # achieved GFLOP/s: forward FLOPs of the padded tokens (x3 for a training step)
            for impl, r in best.items():
                T_eff = r["padded_tokens"] / (r["batch"] * r["steps"])
                fl = flops_per_seq(cfg, T_eff) * (3 if mode == "train" else 1)
                r["gflops"] = round(fl * r["samples_per_s"] / 1e9, 1)
                r["pct_of_fp32_peak"] = round(100 * r["gflops"] / peak["fp32_fma_gflops"], 1)
                if impl == "bertc-bf16" and peak.get("bf16_peak_gflops"):  # None: peak built without AVX512-BF16
                    r["pct_of_bf16_peak"] = round(100 * r["gflops"] / peak["bf16_peak_gflops"], 1)
            row = {"model": name, "case": case, "results": best}
            b = best["bertc"]["samples_per_s"]
            row["ratio_vs_torch"] = round(b / best["torch"]["samples_per_s"], 3)
            if "ort" in best:
                row["ratio_vs_ort"] = round(b / best["ort"]["samples_per_s"], 3)
            row["rss_ratio_vs_torch"] = round(best["bertc"]["peak_rss_kib"] / best["torch"]["peak_rss_kib"], 3)
            if "bertc-int8" in best and "ort-int8" in best:
                row["int8_ratio_vs_ort_int8"] = round(best["bertc-int8"]["samples_per_s"] / best["ort-int8"]["samples_per_s"], 3)
            if "bertc-int8-onednn" in best and "ort-int8" in best:
                row["int8_onednn_ratio_vs_ort_int8"] = round(
                    best["bertc-int8-onednn"]["samples_per_s"] / best["ort-int8"]["samples_per_s"], 3)
            if "torch-bf16" in best:
                for variant in ("bertc-bf16", "bertc"):
                    if variant in best:
                        row[f"{variant}_ratio_vs_torch_bf16"] = round(
                            best[variant]["samples_per_s"] / best["torch-bf16"]["samples_per_s"], 3)
            for variant in ("bertc-bf16", "bertc-int8", "bertc-recompute"):  # -> bf16_*, int8_*, recompute_* ratios
                if variant not in best:
                    continue
                tag, h = variant[len("bertc-"):], best[variant]
                row[f"{tag}_ratio_vs_torch"] = round(h["samples_per_s"] / best["torch"]["samples_per_s"], 3)
                row[f"{tag}_rss_ratio_vs_torch"] = round(h["peak_rss_kib"] / best["torch"]["peak_rss_kib"], 3)
                if "ort" in best:
                    row[f"{tag}_ratio_vs_ort"] = round(h["samples_per_s"] / best["ort"]["samples_per_s"], 3)
            rows.append(row)
            unit = "seq/s" if case != "latency" else "ms"
            def fmt(r):
                return f"{1000 / r['samples_per_s']:.1f} ms" if case == "latency" else f"{r['samples_per_s']:.2f} {unit}"
            log(f"{name:>18} {case:>9}: " + "  ".join(f"{k} {fmt(v)} ({v['peak_rss_kib'] >> 10} MiB, {v['gflops']} GFLOP/s)"
                                                      for k, v in best.items())
                + f"  | bertc/torch {row['ratio_vs_torch']:.2f}x" +
                (f"  bertc/ort {row['ratio_vs_ort']:.2f}x" if "ratio_vs_ort" in row else "") +
                (f"  bf16/torch {row['bf16_ratio_vs_torch']:.2f}x" if "bf16_ratio_vs_torch" in row else "") +
                (f"  bf16/ort {row['bf16_ratio_vs_ort']:.2f}x" if "bf16_ratio_vs_ort" in row else "") +
                (f"  int8/ort-int8 {row['int8_ratio_vs_ort_int8']:.2f}x" if "int8_ratio_vs_ort_int8" in row else "") +
                (f"  int8-onednn/ort-int8 {row['int8_onednn_ratio_vs_ort_int8']:.2f}x"
                 if "int8_onednn_ratio_vs_ort_int8" in row else "") +
                (f"  recompute/torch {row['recompute_ratio_vs_torch']:.2f}x RSS {row['recompute_rss_ratio_vs_torch']:.2f}"
                 if "recompute_ratio_vs_torch" in row else "") +
                f"  RSS bertc/torch {row['rss_ratio_vs_torch']:.2f}  (load {loadavg()[0]})")
            result["rows"] = rows
            os.makedirs(os.path.dirname(a.out), exist_ok=True)
            with open(a.out, "w") as f:
                json.dump(result, f, indent=2)
    result["loadavg_end"] = loadavg()
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)

    log("\nratios (throughput: higher is better for bertc; RSS: lower is better)")
    log(f"{'model':>18} {'case':>9} {'vs PyTorch':>10} {'vs ORT':>7} {'RSS/torch':>9} {'bertc %peak':>11}"
        f" {'bf16/torch':>10} {'bf16/ORT':>8} {'bf16 %bf16peak':>14} {'bf16 RSS':>8} {'recomp/torch':>12} {'recomp RSS':>10}")
    def x(r, k):
        return (str(round(r[k], 2)) + "x") if k in r else "-"
    for r in rows:
        h = r["results"].get("bertc-bf16", {})
        log(f"{r['model']:>18} {r['case']:>9} {r['ratio_vs_torch']:>9.2f}x {x(r, 'ratio_vs_ort'):>7} "
            f"{r['rss_ratio_vs_torch']:>9.2f} {r['results']['bertc']['pct_of_fp32_peak']:>10.1f}%"
            f" {x(r, 'bf16_ratio_vs_torch'):>10} {x(r, 'bf16_ratio_vs_ort'):>8} "
            f"{(str(h['pct_of_bf16_peak']) + '%') if 'pct_of_bf16_peak' in h else '-':>14}"
            f" {r.get('bf16_rss_ratio_vs_torch', '-'):>8} {x(r, 'recompute_ratio_vs_torch'):>12}"
            f" {r.get('recompute_rss_ratio_vs_torch', '-'):>10}")
    # issue 13's targets: met, or the measured ratio and where bertc's time went
    targets = []
    for r in rows:
        m_, c_ = r["model"], r["case"]
        if c_ in ("infer", "latency"):
            if "int8_ratio_vs_ort_int8" in r:
                targets.append((f"int8 {c_} {m_}: bertc int8 / ORT int8", r["int8_ratio_vs_ort_int8"], 1.5, r, "bertc-int8"))
            if "int8_onednn_ratio_vs_ort_int8" in r:
                targets.append((f"int8 {c_} {m_}: bertc int8 with BERTC_INT8_KERNEL=onednn (7-bit weights) / ORT int8",
                                r["int8_onednn_ratio_vs_ort_int8"], 1.5, r, "bertc-int8-onednn"))
            if "ratio_vs_ort" in r:
                targets.append((f"fp32 {c_} {m_}: bertc fp32 / ORT fp32", r["ratio_vs_ort"], 1.2, r, "bertc"))
        elif c_.startswith("train"):
            if "bertc-bf16_ratio_vs_torch_bf16" in r:
                targets.append((f"bf16 {c_} {m_}: bertc bf16 / PyTorch bf16 autocast",
                                r["bertc-bf16_ratio_vs_torch_bf16"], 2.0, r, "bertc-bf16"))
            h = r["results"].get("bertc-bf16", {})
            if "pct_of_bf16_peak" in h:  # issue 13 asks >= 60% on bert-base; reported for both models
                targets.append((f"bf16 {c_} {m_}: bertc bf16 whole step, share of the bf16 peak "
                                f"({peak['bf16_peak_gflops']} GFLOP/s)", h["pct_of_bf16_peak"] / 100, 0.6, r, "bertc-bf16"))
            if "bertc-bf16_ratio_vs_torch_bf16" not in r and "torch-bf16" in r["results"]:
                targets.append((f"bf16 {c_} {m_}: bertc bf16 not run (no AVX512-BF16); bertc fp32 / PyTorch bf16 autocast",
                                r.get("bertc_ratio_vs_torch_bf16"), 2.0, r, "bertc"))
    result["targets"] = []
    for w, v, t, r, impl in targets:
        met = v is not None and v >= t
        entry = {"what": w, "measured": v, "target": t, "met": met}
        if not met and impl in r["results"]:
            entry["profile"] = profile_line(r["results"][impl], impl, peak)
        result["targets"].append(entry)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    log("\ntargets (issue 13); for each one missed, where that bertc run's step went")
    for t in result["targets"]:
        share = "share of" in t["what"]
        v = "-" if t["measured"] is None else (f"{100 * t['measured']:.1f}%" if share else f"{t['measured']:.2f}x")
        goal = f"{100 * t['target']:.0f}%" if share else f"{t['target']}x"
        log(f"  {'met   ' if t['met'] else 'MISSED'} {t['what']}: {v} (target >= {goal})")
        if t.get("profile"):
            log(f"         {t['profile']}")
    log(f"load average: start {result['loadavg_start']}, end {result['loadavg_end']}; wrote {a.out}")


if __name__ == "__main__":
    main()
