"""machine.py: the CPU a bench result was measured on, described the same way by
every bench script (bench/int8_accuracy.sh, bench/experiments.sh). Sessions here
get Zen 3, Zen 4 or Zen 5 boxes whose "model name" is only "AMD EPYC", so the
family and model say which (AMD's family 19h: Zen 4 at models 10h-1Fh, 60h-7Fh
and A0h-AFh, Zen 3 elsewhere)."""
import os, platform

ISA = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile")


def describe():
    txt = open("/proc/cpuinfo").read()
    lines = txt.splitlines()

    def field(key, default="0"):
        return next((l.split(":", 1)[1].strip() for l in lines if l.split(":")[0].strip() == key), default)

    cpu, fam, mod = field("model name", "?"), int(field("cpu family")), int(field("model"))
    flags = field("flags", "").split()
    zen = ""
    if "AMD" in cpu:
        zen4 = any(lo <= mod <= hi for lo, hi in ((0x10, 0x1F), (0x60, 0x7F), (0xA0, 0xAF)))
        zen = {0x17: "Zen/Zen 2", 0x19: "Zen 4" if zen4 else "Zen 3", 0x1A: "Zen 5"}.get(fam, "")
    return {"cpu": cpu + (f" ({zen})" if zen else ""), "family": fam, "model": mod,
            "cores": os.cpu_count(), "platform": platform.platform(),
            "isa": [f for f in ISA if f in flags]}


if __name__ == "__main__":
    import json
    print(json.dumps(describe()))
