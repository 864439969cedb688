#!/bin/sh
# Ensure an ffmpeg binary: the system one, else Debian's via apt-get (when root and apt exist),
# else the one bundled in the imageio-ffmpeg wheel. Says which one is used.
PY=${1:-.venv/bin/python}
if command -v ffmpeg >/dev/null 2>&1; then
  echo "ffmpeg: system $(command -v ffmpeg)"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg) >/dev/null 2>&1; then
    echo "ffmpeg: installed Debian's $(command -v ffmpeg)"
    exit 0
  fi
  echo "ffmpeg: apt-get install failed; falling back to the imageio-ffmpeg binary"
fi
exe=$("$PY" -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())" 2>/dev/null) || {
  echo "ffmpeg: none found; install ffmpeg or run 'make setup' to get imageio-ffmpeg" >&2; exit 1; }
echo "ffmpeg: bundled imageio-ffmpeg $exe (no ffprobe; v2l probes with PyAV)"
