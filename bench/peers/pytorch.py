"""PyTorch CPU peer of the Stride bench (bench/peers/pytorch.ts runs it; it is not part of npm test).

    <python> bench/peers/pytorch.py '<job as JSON>'

Prints one line `PYRESULT <JSON>` (and nothing else on stdout that starts with it). Jobs:
  {"kind": "probe"}                                   torch version, threads, oneDNN/MKL flags
  {"kind": "w1", "cases": [...], "passes": [...]}     one conv layer: forward, dX, dW on their own
  {"kind": "w4", "batch": 256}                        lenet inference
  {"kind": "w5", "combos": [[h, n], ...]}             conv 3x3 x16 same + relu + maxpool 2, forward
  {"kind": "w3", "model": "lenet", "data": dir, ...}  one epoch of SGD training on the MNIST split
Every job takes "threads" (torch.set_num_threads) and the timing budget ("budgetMs", "minReps",
"maxReps"): one warm-up call, then at least minReps timed calls (up to maxReps within the budget),
the median reported. The memory format (contiguous NCHW or channels_last) is chosen per row by
timing both briefly; the choice is reported with the row.

Data arrive from the Node side as raw little-endian files (numpy is not needed): images float32
NHWC, labels int32, the shuffled order int32.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMATS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}


def now_ms():
    return time.perf_counter() * 1000.0


def time_calls(fn, budget_ms, min_reps, max_reps):
    """One warm-up call, then min_reps..max_reps timed calls within the budget; the samples in ms."""
    t0 = now_ms()
    fn()
    first = now_ms() - t0
    reps = max(min_reps, min(max_reps, int(budget_ms / max(first, 1e-3))))
    samples = []
    for _ in range(reps):
        t0 = now_ms()
        fn()
        samples.append(now_ms() - t0)
    return samples


def pick_format(make, budget_ms):
    """Times make(fmt)() briefly for each memory format; returns the faster format's name."""
    best, best_ms = None, float("inf")
    for name in FORMATS:
        fn = make(FORMATS[name])
        fn()
        t = [0.0] * 3
        for i in range(3):
            t0 = now_ms()
            fn()
            t[i] = now_ms() - t0
        ms = statistics.median(t)
        if ms < best_ms:
            best, best_ms = name, ms
    return best


def measured(samples, n, note):
    med = statistics.median(samples)
    return {"status": "ok", "n": n, "reps": len(samples), "samples": samples, "medianMs": med, "msPerImage": med / n, "note": note}


def cannot(e):
    return {"status": "cannot", "message": str(e).split("\n")[0][:200]}


# ------------------------------------------------------------------------------------------------
# W1: one convolution layer


def conv_padding(c):
    if c["padding"] == "valid":
        return 0
    # 'same' with stride 1 and an odd kernel: symmetric (k - 1) / 2 (every W1 case that is 'same').
    if c["stride"] != 1 or c["k"] % 2 != 1:
        raise ValueError("'same' padding here is asymmetric; not expressed")
    return (c["k"] - 1) // 2


def w1_row(c, pas, job):
    n, k, stride = c["n"], c["k"], c["stride"]
    pad = conv_padding(c)
    g = torch.Generator().manual_seed(1000 + n * 7 + c["inC"])
    x0 = torch.rand(n, c["inC"], c["h"], c["w"], generator=g) * 2 - 1
    w0 = (torch.rand(c["outC"], c["inC"], k, k, generator=g) * 2 - 1) / (k * k * c["inC"]) ** 0.5
    ho = (c["h"] + 2 * pad - k) // stride + 1
    wo = (c["w"] + 2 * pad - k) // stride + 1
    dy0 = torch.rand(n, c["outC"], ho, wo, generator=g) * 2 - 1
    mask = {"forward": None, "dX": [True, False, False], "dW": [False, True, False], "dX+dW": [True, True, False]}[pas]

    def make(fmt):
        x, w, dy = x0.contiguous(memory_format=fmt), w0.contiguous(memory_format=fmt), dy0.contiguous(memory_format=fmt)
        if mask is None:
            def fwd():
                with torch.no_grad():
                    F.conv2d(x, w, None, stride, pad)
            return fwd

        def bwd():
            # aten's convolution_backward: just the asked-for gradients (oneDNN's backward kernels).
            torch.ops.aten.convolution_backward(dy, x, w, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, mask)
        return bwd

    fmt = pick_format(make, job["budgetMs"])
    samples = time_calls(make(FORMATS[fmt]), job["budgetMs"], job["minReps"], job["maxReps"])
    return measured(samples, n, fmt)


# ------------------------------------------------------------------------------------------------
# Models (the same layer lists as bench/shapes.ts MODELS; same init scheme as Stride: He uniform
# +-sqrt(6 / fanIn) for weights, zero biases)


def make_model(name):
    if name == "lenet":
        layers = [nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Linear(256, 10)]
    elif name == "small":
        layers = [nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3),
                  nn.Flatten(), nn.Linear(256, 10)]
    elif name == "w5block":
        layers = [nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    else:
        raise ValueError("unknown model " + name)
    m = nn.Sequential(*layers)
    for l in m:
        if isinstance(l, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(l.weight, a=0, nonlinearity="relu")  # bound sqrt(6 / fanIn) = Stride's 'he'
            nn.init.zeros_(l.bias)
    return m


def infer_row(model_name, c, h, n, job, note_prefix=""):
    torch.manual_seed(1)
    model = make_model(model_name).eval()
    x0 = torch.rand(n, c, h, h)

    def make(fmt):
        m = model.to(memory_format=fmt)
        x = x0.contiguous(memory_format=fmt)

        def run():
            with torch.inference_mode():
                m(x)
        return run

    fmt = pick_format(make, job["budgetMs"])
    samples = time_calls(make(FORMATS[fmt]), job["budgetMs"], job["minReps"], job["maxReps"])
    return measured(samples, n, note_prefix + fmt)


# ------------------------------------------------------------------------------------------------
# W3: training


def read_f32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


def read_i32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.int32)


def peak_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def w3(job):
    d = job["data"]
    xs = read_f32(os.path.join(d, "train-images.f32")).view(-1, 1, 28, 28)  # NHWC with C = 1 is NCHW
    ys = read_i32(os.path.join(d, "train-labels.i32")).long()
    order = read_i32(os.path.join(d, "train-order.i32")).long()
    tx = read_f32(os.path.join(d, "test-images.f32")).view(-1, 1, 28, 28)
    ty = read_i32(os.path.join(d, "test-labels.i32")).long()
    n, b, lr = xs.shape[0], job["batch"], job["lr"]
    fmt = torch.contiguous_format
    rss_before = round(int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20, 1)

    def train(model, steps=None):
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        first = last = None
        done = 0
        for s, start in enumerate(range(0, n, b)):
            if steps is not None and s >= steps:
                break
            idx = order[start:start + b]
            x = xs[idx].contiguous(memory_format=fmt)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), ys[idx])
            loss.backward()
            opt.step()
            last = loss.item()
            first = last if first is None else first
            done += idx.shape[0]
        return first, last, done

    # Warm-up on throwaway models, which also picks the faster memory format: 3 steps, then 5 timed.
    best = None
    for name, f in FORMATS.items():
        fmt = f
        torch.manual_seed(job["seed"])
        m = make_model(job["model"]).to(memory_format=fmt)
        train(m, steps=3)
        t0 = now_ms()
        train(m, steps=5)
        t = now_ms() - t0
        if best is None or t < best[1]:
            best = (name, t)
    fmt_name = best[0]
    fmt = FORMATS[fmt_name]
    torch.manual_seed(job["seed"])
    model = make_model(job["model"]).to(memory_format=fmt)
    t0 = now_ms()
    first, last, images = train(model)
    ms = now_ms() - t0
    with torch.inference_mode():
        pred = model.eval()(tx.contiguous(memory_format=fmt)).argmax(1)
    acc = (pred == ty).float().mean().item()
    return {
        "status": "ok", "batch": b, "steps": (images + b - 1) // b, "images": images, "ms": ms, "imagesPerSec": 1000.0 * images / ms,
        "fullEpoch": images == n, "testAccuracy": acc, "firstLoss": first, "lastLoss": last, "rssBeforeMiB": rss_before,
        "peakRssMiB": peak_rss_mib(), "note": "one epoch (%d images), %s (faster of the two memory formats over 5 warm-up steps on throwaway models)" % (images, fmt_name),
    }


def main():
    job = json.loads(sys.argv[1])
    torch.set_num_threads(int(job.get("threads", 1)))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available()}
    kind = job["kind"]
    if kind == "probe":
        cfg = torch.__config__.show()
        out["cpuCapability"] = next((l.split(":", 1)[1].strip() for l in cfg.splitlines() if "CPU capability usage" in l), "unknown")
    elif kind == "w1":
        rows = []
        for c in job["cases"]:
            for p in job["passes"]:
                try:
                    rows.append({"case": c["name"], "pass": p, **w1_row(c, p, job)})
                except Exception as e:  # noqa: BLE001 - reported as 'cannot'
                    rows.append({"case": c["name"], "pass": p, **cannot(e)})
        out["rows"] = rows
    elif kind == "w4":
        out["row"] = infer_row("lenet", 1, 28, job["batch"], job)
    elif kind == "w5":
        rows = []
        for h, n in job["combos"]:
            try:
                rows.append({"h": h, "n": n, **infer_row("w5block", 3, h, n, job)})
            except Exception as e:  # noqa: BLE001
                rows.append({"h": h, "n": n, **cannot(e)})
        out["rows"] = rows
    elif kind == "w3":
        out["result"] = w3(job)
    else:
        raise ValueError("unknown job kind " + kind)
    sys.stdout.write("PYRESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
