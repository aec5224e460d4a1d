"""How long converting one recording takes, and what it weighs: an upload is converted once, in the web
request of the editor who uploads it (bot/recordings/convert.py), so this is what that person waits.

    python bench/recordings.py                 # 90 s of 48 kHz stereo WAV (the largest a phone records), 5 runs
    python bench/recordings.py --seconds 30 --runs 3

Prints per run: seconds of sound, input MB, conversion wall time, OGG/Opus and MP3 sizes, and the process's
peak RSS; then the refusal time of a 10-minute FLAC of silence (a "bomb" stopped at the length limit).
Targets (exit 1 when missed): a 90 s upload converts in under 10 s; outputs under WhatsApp's 16 MB.
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.recordings.convert import RecordingRefused, convert  # noqa: E402
from tests.sounds import encoded, tone_wav  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    wav = tone_wav(args.seconds, rate=48_000, channels=2)
    worst = 0.0
    print(f"input: {args.seconds:.0f} s WAV 48 kHz stereo, {len(wav) / 1e6:.1f} MB; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        converted = convert(wav)
        took = time.perf_counter() - started
        worst = max(worst, took)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"run {run}: {took:.2f} s  ogg {len(converted.ogg) / 1e3:.0f} KB  mp3 {len(converted.mp3) / 1e3:.0f} KB"
              f"  length {converted.seconds:.2f} s  peak RSS {peak:.0f} MB")
    bomb = encoded("flac", "flac", 600, rate=8000, silent=True)
    started = time.perf_counter()
    try:
        convert(bomb)
    except RecordingRefused as refused:
        print(f"10-minute FLAC of silence ({len(bomb) / 1e3:.0f} KB): refused in "
              f"{time.perf_counter() - started:.3f} s ({refused})")
    ok = worst < 10 and len(converted.ogg) < 16e6 and len(converted.mp3) < 16e6
    print(f"target: 90 s converts in < 10 s, outputs < 16 MB: {'met' if ok else 'MISSED'} (worst {worst:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
