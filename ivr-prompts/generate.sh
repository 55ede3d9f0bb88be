#!/usr/bin/env bash
# Regenerates every prompt listed in manifest.toml as <lang>/<name>.wav (8 kHz, mono, 16-bit
# PCM): speech with espeak-ng (voice cmn for zh, en for en), tones and the music-on-hold loop
# with sox's synth. Speech is trimmed of leading/trailing silence, leveled to about -16 dBFS RMS
# (peaks kept under -1 dBFS) and given a 100 ms lead-in. Running it twice gives the same files.
#
#   ./generate.sh           regenerate all prompts
#   ./generate.sh --check   list manifest entries without a file; exit 1 if there are any
#
# Needs python3 (3.11+, for tomllib), espeak-ng and sox:
#   apt-get install -y espeak-ng sox
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.toml"

# One line per (prompt, language): name, kind, lang, tone_hz, tone_ms, text (tab separated).
entries() {
    python3 - "$manifest" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    doc = tomllib.load(f)
for p in doc.get("prompt", []):
    for lang, text in sorted(p.get("text", {}).items()):
        text = " ".join(text.split())
        print("\t".join([p["name"], p.get("kind", "speech"), lang,
                         str(p.get("tone_hz", 0)), str(p.get("tone_ms", 0)), text]))
PY
}

if [[ "${1:-}" == "--check" ]]; then
    missing=0
    while IFS=$'\t' read -r name _kind lang _hz _ms _text; do
        if [[ ! -f "$here/$lang/$name.wav" ]]; then
            echo "missing: $lang/$name.wav"
            missing=1
        fi
    done < <(entries)
    exit "$missing"
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--check]" >&2
    exit 2
fi

for tool in python3 espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "generate.sh: $tool not found (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out_fmt=(-r 8000 -c 1 -b 16 -e signed-integer)

# Text as the synthesizer should say it: a hotline or case number (3+ digits) is read digit by
# digit ("幺二三四五" in Mandarin, "1 2 3 4 5" in English) instead of as a quantity.
speakable() {
    python3 - "$1" "$2" <<'PY'
import re, sys
lang, text = sys.argv[1], sys.argv[2]
zh = dict(zip("0123456789", "零幺二三四五六七八九"))
def digits(m):
    s = m.group(0)
    return "".join(zh[c] for c in s) if lang == "zh" else " ".join(s) + " "
print(re.sub(r"\d{3,}", digits, text))
PY
}

# Gain (dB) that brings a file to about -16 dBFS RMS without peaks above -1 dBFS.
level_gain() {
    sox "$1" -n stats 2>&1 | awk '
        /^Pk lev dB/  { pk = $4 }
        /^RMS lev dB/ { rms = $4 }
        END { g = -16 - rms; if (pk + g > -1) g = -1 - pk; printf "%.2f\n", g }'
}

speech() { # lang text out
    local voice=cmn speed=165
    [[ "$1" == en ]] && voice=en
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$(speakable "$1" "$2")"
    sox -D "$tmp/raw.wav" "$tmp/trim.wav" gain -3 highpass 120 rate -v 8000 remix - \
        silence 1 0.02 -45d reverse silence 1 0.02 -45d reverse
    sox -D "$tmp/trim.wav" "${out_fmt[@]}" "$3" gain "$(level_gain "$tmp/trim.wav")" pad 0.1 0.05
}

tone() { # hz ms out
    local secs
    secs="$(awk -v ms="$2" 'BEGIN { printf "%.3f", ms / 1000 }')"
    sox -D -n -r 8000 -c 1 "$tmp/tone.wav" synth "$secs" sine "$1" fade q 0.005 "$secs" 0.005
    sox -D "$tmp/tone.wav" "${out_fmt[@]}" "$3" gain "$(level_gain "$tmp/tone.wav")"
}

# Music on hold: eight 4 s chords (a soft sine pad that swells in and out under a slow
# eight-note arpeggio), 32 s in all. Every chord starts and ends at zero level, so the file
# loops without a click. Kept low, peaks at -18 dBFS.
music() { # out
    local chords=(
        "261.63 329.63 392.00" # C
        "220.00 261.63 329.63" # Am
        "174.61 220.00 261.63" # F
        "196.00 246.94 293.66" # G
        "261.63 329.63 392.00" # C
        "164.81 196.00 246.94" # Em
        "174.61 220.00 261.63" # F
        "196.00 246.94 293.66" # G
    )
    local i=0 parts=() f1 f2 f3 notes n
    for chord in "${chords[@]}"; do
        read -r f1 f2 f3 <<<"$chord"
        sox -D -n -r 8000 -c 3 "$tmp/pad3.wav" synth 4 sine "$f1" sine "$f2" sine "$f3"
        sox -D "$tmp/pad3.wav" -c 1 "$tmp/pad.wav" remix - fade q 1.2 4 1.5 gain -9
        notes=()
        for n in "$f1" "$f2" "$f3" "$(awk -v f="$f1" 'BEGIN{print f*2}')" \
                 "$(awk -v f="$f2" 'BEGIN{print f*2}')" "$f3" "$f2" "$f1"; do
            sox -D -n -r 8000 -c 1 "$tmp/note$((${#notes[@]})).wav" \
                synth 0.5 sine "$(awk -v f="$n" 'BEGIN{print f*2}')" fade q 0.02 0.5 0.45 gain -14
            notes+=("$tmp/note$((${#notes[@]})).wav")
        done
        sox -D "${notes[@]}" "$tmp/arp.wav"
        sox -D -m "$tmp/pad.wav" "$tmp/arp.wav" "$tmp/chord$i.wav"
        parts+=("$tmp/chord$i.wav")
        i=$((i + 1))
    done
    sox -D "${parts[@]}" "$tmp/moh.wav"
    sox -D "$tmp/moh.wav" "${out_fmt[@]}" "$1" gain -n -18
}

count=0
while IFS=$'\t' read -r name kind lang hz ms text; do
    mkdir -p "$here/$lang"
    out="$here/$lang/$name.wav"
    case "$kind" in
        speech) speech "$lang" "$text" "$out" ;;
        tone) tone "$hz" "$ms" "$out" ;;
        music) music "$out" ;;
        *) echo "generate.sh: $name: unknown kind '$kind'" >&2; exit 1 ;;
    esac
    count=$((count + 1))
done < <(entries)
echo "generated $count prompts under $here"
