#!/usr/bin/env python3
"""gen_tokenizer.py OUTDIR: reference tokenizations for tests/test_tokenizer.c.

The reference is transformers' BertTokenizerFast (the `tokenizers` library),
loaded with from_pretrained on a folder. NOTE: in transformers 5.x,
BertTokenizerFast(vocab_file=...) silently ignores vocab_file and builds a
5-token vocabulary; only from_pretrained (or vocab=PATH) reads vocab.txt. The
script checks that BertTokenizerFast.from_pretrained and AutoTokenizer agree.

Writes OUTDIR/<group>.bin (little-endian):
  header: b"BTOKFIX1", u32 nrecords, u32 do_lower_case, i32 strip_accents (-1 unset),
          u32 tokenize_chinese_chars, u32 vocab_path_len, vocab_path bytes
          (relative to OUTDIR unless absolute), i32 expected vocab size (max id + 1),
          u32 nchecks, then per check: i32 id, i32 len (-1: no token), token bytes
  record: u32 kind (0 single, 1 pair, 2 batch)
    single/pair: i32 max_length (0 none), i32 trunc (0 head, 1 tail, 2 head+tail),
          u32 alen, a bytes, [pair: u32 blen, b bytes], u32 has_offsets,
          u32 n, n x i32 ids, n x i32 type_ids, [has_offsets: n x 2 x i32 offsets]
    batch: i32 max_length (0: pad to longest), u32 B, B x (u32 len, bytes),
          u32 T, B*T x i32 input_ids, B*T x i32 token_type_ids, B*T x i32 attention_mask
Texts are raw bytes (invalid UTF-8 included); transformers sees
bytes.decode("utf-8", "replace"). Offsets are transformers' offset_mapping
(code points of that string).
"""
import os
import re
import shutil
import struct
import sys
import tarfile

import tokenizers
import transformers
from transformers import AutoTokenizer, BertTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")
MODEL = os.environ.get("BERTC_MODEL") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bertc/models/all-MiniLM-L6-v2")
IMDB = os.environ.get("BERTC_IMDB") or os.path.join(ROOT, "..", "shared", "data", "imdb", "aclImdb-text.tar.gz")


def unescape(line):
    """tests/data/tokenizer escapes -> bytes."""
    if line == '""':
        return b""
    out = bytearray()
    i = 0
    while i < len(line):
        ch = line[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        nxt = line[i + 1]
        if nxt == "x":
            out.append(int(line[i + 2:i + 4], 16))
            i += 4
        elif nxt == "u":
            m = re.match(r"\\u\{([0-9A-Fa-f]+)\}", line[i:])
            out += chr(int(m.group(1), 16)).encode("utf-8")
            i += len(m.group(0))
        else:
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}[nxt]
            i += 2
    return bytes(out)


def read_cases(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip("\n") and not l.startswith("#")]


class Writer:
    def __init__(self, path, vocab_path, lower, strip, cjk, tok):
        self.f = open(path, "wb")
        self.n = 0
        vp = vocab_path.encode()
        vocab = tok.get_vocab()
        size = max(vocab.values()) + 1
        ids = sorted(set([0, 1, 100, 101, 102, 103, size - 1] + [i for i in (7592, 7593, 2088) if i < size]))
        head = b"BTOKFIX1" + struct.pack("<IIiII", 0, lower, strip, cjk, len(vp)) + vp
        head += struct.pack("<iI", size, len(ids))
        for i in ids:
            t = tok.convert_ids_to_tokens(i)
            if t is None:
                head += struct.pack("<ii", i, -1)
            else:
                tb = t.encode()
                head += struct.pack("<ii", i, len(tb)) + tb
        self.f.write(head)

    def single(self, a, ids, types, offsets=None, max_length=0, trunc=0, b=None):
        r = struct.pack("<Iii", 1 if b is not None else 0, max_length, trunc)
        r += struct.pack("<I", len(a)) + a
        if b is not None:
            r += struct.pack("<I", len(b)) + b
        n = len(ids)
        r += struct.pack("<II", 1 if offsets is not None else 0, n)
        r += struct.pack(f"<{n}i", *ids) + struct.pack(f"<{n}i", *types)
        if offsets is not None:
            r += struct.pack(f"<{2 * n}i", *[x for o in offsets for x in o])
        self.f.write(r)
        self.n += 1

    def batch(self, texts, max_length, enc):
        r = struct.pack("<IiI", 2, max_length, len(texts))
        for t in texts:
            r += struct.pack("<I", len(t)) + t
        T = len(enc["input_ids"][0])
        r += struct.pack("<I", T)
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            flat = [x for row in enc[key] for x in row]
            r += struct.pack(f"<{len(flat)}i", *flat)
        self.f.write(r)
        self.n += 1

    def close(self):
        self.f.seek(8)
        self.f.write(struct.pack("<I", self.n))
        self.f.close()


def dec(b):
    return b.decode("utf-8", "replace")


def load(folder, **kw):
    tok = BertTokenizerFast.from_pretrained(folder, **kw)
    auto = AutoTokenizer.from_pretrained(folder, **kw)
    probe = ["Hello, Wörld! Café 中文 [SEP] İ ΣΑΣ \u0085x\u2028y", "x" * 101, "naïve déjà-vu"]
    for s in probe:
        a, b = tok(s, return_offsets_mapping=True), auto(s, return_offsets_mapping=True)
        if a["input_ids"] != b["input_ids"] or a["offset_mapping"] != b["offset_mapping"]:
            sys.exit(f"gen_tokenizer: BertTokenizerFast and AutoTokenizer disagree on {s!r}")
    return tok


def write_texts(w, tok, texts, offsets=True, max_length=0):
    kw = dict(truncation=True, max_length=max_length) if max_length else {}
    enc = tok([dec(t) for t in texts], return_offsets_mapping=offsets, **kw)
    for i, t in enumerate(texts):
        w.single(t, enc["input_ids"][i], enc["token_type_ids"][i],
                 enc["offset_mapping"][i] if offsets else None, max_length)


VERSION_DIFFS = set()


def find_version_diffs(tok):
    """Code points where tokenizers' own Unicode tables (older than Unicode 14,
    see docs/tokenizer.md) and Python's (14.0, close to utf8proc's 15.0) disagree
    on the class of a character: dropped (Cc Cf Co, Mn when stripping),
    isolated (punctuation, CJK) or plain; or Python's database does not know it.
    They are left out of the sweeps and listed in OUTDIR/unicode_version_diffs.txt."""
    import unicodedata
    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    enc = tok(["q" + chr(c) + "q" for c in cps], add_special_tokens=False)
    qq = tok("qq", add_special_tokens=False)["input_ids"]
    q = tok.convert_tokens_to_ids("q")
    for c, ids in zip(cps, enc["input_ids"]):
        cat = unicodedata.category(chr(c))
        if cat == "Cn":
            if not (0xFDD0 <= c <= 0xFDEF or (c & 0xFFFE) == 0xFFFE):
                VERSION_DIFFS.add(c)  # unassigned in Unicode 14: utf8proc (15.0) may know it
            continue
        drop = c in (0, 0xFFFD) or (cat in ("Cc", "Cf", "Co") and chr(c) not in "\t\n\r") or cat == "Mn"
        iso = cat[0] == "P" or 33 <= c <= 126 and not chr(c).isalnum() or (
            cat == "Lo" and any(lo <= c <= hi for lo, hi in CJK))
        if (ids == qq) != drop or (len(ids) == 3 and ids[0] == ids[2] == q) != iso:
            VERSION_DIFFS.add(c)


CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
       (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def sweep_texts(lo, hi, per=128):
    """Each code point c as "q" c "q", space separated, `per` to a text."""
    cps = [c for c in range(lo, hi) if not 0xD800 <= c < 0xE000 and c not in VERSION_DIFFS]
    return [" ".join("q" + chr(c) + "q" for c in cps[i:i + per]).encode("utf-8", "surrogatepass")
            for i in range(0, len(cps), per)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    edge = [unescape(l) for l in read_cases("edge_cases.txt")]
    # A 1 MB word, a 1 MB text of short words with punctuation, and 1 MB of CJK.
    edge.append(b"a" * (1 << 20))
    edge.append(b"unbelievable, " * ((1 << 20) // 14))
    edge.append("中文".encode() * ((1 << 20) // 6))
    edge.append(b"x" * 100 + b" " + b"y" * 101 + b" [SEP]" + b"z" * 5000)

    vocab_src = os.path.join(MODEL, "vocab.txt")
    with open(vocab_src, encoding="utf-8") as f:
        vocab_lines = f.read().split("\n")[:-1]

    # --- (1)+(2)+(3)+(5) with the model folder's own settings (uncased).
    uncased = os.path.join(out, "uncased")
    os.makedirs(uncased, exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        if os.path.exists(os.path.join(MODEL, name)):
            shutil.copy(os.path.join(MODEL, name), uncased)
    tok = load(uncased)

    w = Writer(os.path.join(out, "edge.bin"), "uncased/vocab.txt", 1, -1, 1, tok)
    write_texts(w, tok, edge)
    # Truncation of single texts: head from transformers; tail and head+tail are
    # bertc's own strategies, cut from transformers' untruncated pieces.
    full = tok([dec(t) for t in edge], return_offsets_mapping=True)
    for i, t in enumerate(edge):
        ids, offs = full["input_ids"][i][1:-1], full["offset_mapping"][i][1:-1]
        for L in (2, 3, 8, 40, 300, 512):
            room = L - 2
            e = tok(dec(t), truncation=True, max_length=L, return_offsets_mapping=True)
            w.single(t, e["input_ids"], e["token_type_ids"], e["offset_mapping"], L, 0)
            if len(ids) <= room:
                continue
            head = 128 if room >= 256 else room // 2
            for trunc, keep in ((1, list(range(len(ids) - room, len(ids)))),
                                (2, list(range(head)) + list(range(len(ids) - (room - head), len(ids))))):
                kid = [tok.cls_token_id] + [ids[k] for k in keep] + [tok.sep_token_id]
                koff = [(0, 0)] + [offs[k] for k in keep] + [(0, 0)]
                w.single(t, kid, [0] * len(kid), koff, L, trunc)
    # Pairs, with longest_first truncation.
    for line in read_cases("pairs.txt"):
        a, b, L = line.split("\t")
        a, b, L = unescape(a), unescape(b), int(L)
        kw = dict(truncation="longest_first", max_length=L) if L else {}
        e = tok(dec(a), dec(b), return_offsets_mapping=True, **kw)
        w.single(a, e["input_ids"], e["token_type_ids"], e["offset_mapping"], L, 0, b)
    short = [t for t in edge if len(t) < 2000]
    for i in range(len(short) - 1):  # every neighbouring pair of edge cases, cut at 24
        a, b = short[i], short[i + 1]
        e = tok(dec(a), dec(b), truncation="longest_first", max_length=24, return_offsets_mapping=True)
        w.single(a, e["input_ids"], e["token_type_ids"], e["offset_mapping"], 24, 0, b)
    # Padding: to the longest in the batch and to max_length.
    batches = [short[:7], short[7:20], short[20:33], short[-5:]]
    for bt in batches:
        w.batch(bt, 0, tok([dec(t) for t in bt], padding="longest"))
        w.batch(bt, 64, tok([dec(t) for t in bt], padding="max_length", truncation=True, max_length=64))
    w.close()

    # The code point sweep: every scalar value under the model's settings.
    find_version_diffs(tok)
    with open(os.path.join(out, "unicode_version_diffs.txt"), "w") as f:
        f.write("".join("U+%04X %s\n" % (c, __import__("unicodedata").category(chr(c)))
                        for c in sorted(VERSION_DIFFS) if __import__("unicodedata").category(chr(c)) != "Cn"))
    w = Writer(os.path.join(out, "sweep_uncased.bin"), "uncased/vocab.txt", 1, -1, 1, tok)
    write_texts(w, tok, sweep_texts(0, 0x110000))
    w.close()

    # --- (4) A cased vocabulary: the uncased one plus Capitalised and UPPER
    # variants of common words (only new tokens are appended).
    cased = os.path.join(out, "cased")
    os.makedirs(cased, exist_ok=True)
    have = set(vocab_lines)
    extra = []
    for tkn in vocab_lines[1996:8000]:
        if tkn.isalpha() and tkn.islower():
            for v in (tkn.capitalize(), tkn.upper()):
                if v not in have:
                    have.add(v)
                    extra.append(v)
    extra += ["É", "Ö", "Café", "##É", "İ", "Σ", "ΣΑΣ"]
    with open(os.path.join(cased, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab_lines + [e for e in extra if e not in set(vocab_lines)]) + "\n")
    with open(os.path.join(cased, "tokenizer_config.json"), "w") as f:
        f.write('{"do_lower_case": false, "tokenizer_class": "BertTokenizer", "model_max_length": 512}\n')
    configs = [
        ("cased", "cased/vocab.txt", dict(do_lower_case=False), 0, -1, 1),
        ("cased_strip", "cased/vocab.txt", dict(do_lower_case=False, strip_accents=True), 0, 1, 1),
        ("lower_nostrip", "uncased/vocab.txt", dict(do_lower_case=True, strip_accents=False), 1, 0, 1),
        ("nocjk", "uncased/vocab.txt", dict(tokenize_chinese_chars=False), 1, -1, 0),
    ]
    for name, vp, kw, lower, strip, cjk in configs:
        t2 = load(os.path.join(out, os.path.dirname(vp)), **kw)
        w = Writer(os.path.join(out, f"{name}.bin"), vp, lower, strip, cjk, t2)
        write_texts(w, t2, edge)
        write_texts(w, t2, sweep_texts(0, 0x32000) + sweep_texts(0xE0000, 0xE0200))
        w.close()

    # --- vocab.txt variants: CRLF, a blank line, trailing/leading spaces, a duplicate.
    base = open(vocab_src, "rb").read()
    variants = {
        "crlf": base.replace(b"\n", b"\r\n"),
        "blank": base.replace(b"\nhello\n", b"\n\nhello\n", 1),
        "spaces": base.replace(b"\nhello\n", b"\nhello \t\n", 1).replace(b"\nworld\n", b"\n world\n", 1),
        "dup": base.replace(b"\nworld\n", b"\nhello\n", 1),
        "noeol": base.rstrip(b"\n"),
    }
    texts = [b"Hello world, [SEP] hello-world!", b"A world of hellos", b""]
    for name, data in variants.items():
        d = os.path.join(out, "vocab_" + name)
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "vocab.txt"), "wb").write(data)
        shutil.copy(os.path.join(MODEL, "tokenizer_config.json"), d)
        t2 = load(d)
        w = Writer(os.path.join(out, f"vocab_{name}.bin"), f"vocab_{name}/vocab.txt", 1, -1, 1, t2)
        write_texts(w, t2, texts + edge[:20])
        w.close()

    # --- (1) all 50,000 IMDB reviews (train+test), max_length 512, truncation.
    # Offsets for every 10th review (keeps the fixture near 100 MB).
    reviews = []
    with tarfile.open(IMDB, "r:gz") as tf:
        for m in tf:
            if m.isfile() and re.match(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$", m.name):
                reviews.append((m.name, tf.extractfile(m).read()))
    reviews.sort()
    if len(reviews) != 50000:
        sys.exit(f"gen_tokenizer: {IMDB}: {len(reviews)} reviews, want 50000")
    w = Writer(os.path.join(out, "imdb.bin"), "uncased/vocab.txt", 1, -1, 1, tok)
    for s in range(0, len(reviews), 5000):
        chunk = [r[1] for r in reviews[s:s + 5000]]
        enc = tok([dec(t) for t in chunk], truncation=True, max_length=512, return_offsets_mapping=True)
        for i, t in enumerate(chunk):
            off = enc["offset_mapping"][i] if (s + i) % 10 == 0 else None
            w.single(t, enc["input_ids"][i], enc["token_type_ids"][i], off, 512)
    w.close()
    with open(os.path.join(out, "VERSIONS"), "w") as f:
        f.write(f"transformers {transformers.__version__}\ntokenizers {tokenizers.__version__}\n")


if __name__ == "__main__":
    main()
